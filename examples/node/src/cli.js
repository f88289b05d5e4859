/** A tiny `--name value` / `--flag` parser: the examples need no CLI dependency. */

export function parseArgs(argv, spec) {
  const options = {}
  for (const [name, { default: fallback }] of Object.entries(spec)) options[name] = fallback
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i].replace(/^--/, '')
    const kind = spec[name]
    if (!argv[i].startsWith('--') || kind === undefined) {
      throw new Error(`unknown option ${argv[i]}; options: ${Object.keys(spec).map((n) => `--${n}`).join(' ')}`)
    }
    if (kind.type === 'flag') {
      options[name] = true
      continue
    }
    const value = argv[i + 1]
    i += 1
    if (value === undefined) throw new Error(`--${name} needs a value`)
    options[name] = kind.type === 'number' ? Number(value) : value
    if (kind.type === 'number' && !Number.isFinite(options[name])) {
      throw new Error(`--${name} needs a number, got "${value}"`)
    }
  }
  return options
}

/** Run main(); a failure is one line on stderr and exit status 1. */
export function runMain(main) {
  main().then(
    (code) => process.exit(code ?? 0),
    (error) => {
      console.error(`error: ${error.message}`)
      process.exit(1)
    },
  )
}
