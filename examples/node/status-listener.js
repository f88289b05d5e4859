#!/usr/bin/env node
/**
 * A status listener: it consumes ShopStream's `order-status` topic and prints each change.
 *
 *   node status-listener.js [--group shopstream-node-listener] [--from-beginning]
 *                           [--key-prefix P] [--count N] [--timeout-s S] [--json]
 *
 * One line per status change (`order  vN  PREVIOUS -> STATUS  caused by ...`), or the
 * change itself as a JSON line with --json. Changes of one order arrive in version order:
 * `order-status` is keyed by order_id, so they share a partition. A consumer group that
 * resumes after a restart may see a change again (at-least-once): deduplicate on
 * (order_id, version). With --count it exits 0 after N changes (of orders whose id starts
 * with --key-prefix), or 1 when --timeout-s passes first. Ctrl-C stops it.
 */

import { parseArgs, runMain } from './src/cli.js'
import { codecFor } from './src/codec.js'
import { loadSettings } from './src/config.js'
import { kafkaClient } from './src/kafka.js'

const OPTIONS = {
  group: { type: 'string', default: 'shopstream-node-listener' },
  'from-beginning': { type: 'flag', default: false },
  'key-prefix': { type: 'string', default: '' },
  count: { type: 'number', default: 0 },
  'timeout-s': { type: 'number', default: 0 },
  json: { type: 'flag', default: false },
}

const TOPIC = 'order-status'

function describe(change) {
  const from = change.previous_status ?? '(new)'
  const reason = change.reason ? `, ${change.reason}` : ''
  return `${change.order_id}  v${change.version}  ${from} -> ${change.status}  (caused by ${change.caused_by} at ${change.occurred_at}${reason})`
}

async function main() {
  const options = parseArgs(process.argv.slice(2), OPTIONS)
  const settings = loadSettings()
  const codec = await codecFor(settings)
  const consumer = kafkaClient(settings, 'shopstream-node-status-listener').consumer({
    groupId: options.group,
  })
  let seen = 0
  let finish
  const finished = new Promise((resolve) => {
    finish = resolve
  })
  const stop = () => finish(0)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  if (options['timeout-s'] > 0) {
    setTimeout(() => {
      console.error(`status-listener: ${seen} of ${options.count} changes after ${options['timeout-s']} s`)
      finish(1)
    }, options['timeout-s'] * 1000).unref()
  }

  await consumer.connect()
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: options['from-beginning'] })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const key = message.key?.toString('utf8') ?? ''
        if (!key.startsWith(options['key-prefix']) || message.value === null) return
        let change
        try {
          change = await codec.decode(TOPIC, message.value)
        } catch (error) {
          // One unreadable record must not stop the listener (KafkaJS would retry it forever).
          console.error(`skipped ${TOPIC} partition ${partition} offset ${message.offset}: ${error.message}`)
          return
        }
        console.log(options.json ? JSON.stringify(change) : describe(change))
        seen += 1
        if (options.count > 0 && seen >= options.count) finish(0)
      },
    })
    return await finished
  } finally {
    await consumer.disconnect()
  }
}

runMain(main)
