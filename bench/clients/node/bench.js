#!/usr/bin/env node
/**
 * One measurement of one Node.js Kafka client, for the client comparison
 * (bench/clients/, `python -m bench --only clients`). Prints one JSON line.
 *
 *   node bench.js --client kafkajs|node-rdkafka --modules DIR --mode produce|consume|latency
 *                 --bootstrap host:port --topic T --value-file F
 *                 [--count N] [--group G] [--rate R --seconds S --warmup-seconds W]
 *                 [--per-message true]   (KafkaJS produce: one message per send())
 *
 * --modules is the node_modules folder the client was installed into (each client has its
 * own package.json and lockfile, so its install is timed alone). The same settings as the
 * Python twins (bench/clients/python_client.py): acks=all and idempotence on every produce,
 * linger 5 ms where the client batches (librdkafka's default; KafkaJS has no linger: each
 * send() is one request, so the produce run hands it 1000 messages per send()), keys
 * `o-<i mod 10000>`, one value of the given size for every message.
 *
 * - produce: N messages as fast as the client takes them; rate from the first send to the
 *   last acknowledgement.
 * - consume: one consumer (a fresh group) reads the whole topic from the beginning; rate
 *   from the first record to the N-th (connecting and the group join are not timed).
 * - latency: one message at a time at a fixed rate, as a service emits events; produce
 *   latency = acknowledgement time - send call, p50/p99 after the warm-up.
 * Every mode reports the process's peak RSS.
 */

'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { createRequire } = require('node:module')

function parseArgs(argv) {
  const options = { count: 0, rate: 0, seconds: 0, 'warmup-seconds': 1, group: '' }
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '')
    const value = argv[i + 1]
    options[name] = ['count', 'rate', 'seconds', 'warmup-seconds'].includes(name) ? Number(value) : value
    if (name === 'per-message') options[name] = value === 'true'
  }
  for (const needed of ['client', 'modules', 'mode', 'bootstrap', 'topic', 'value-file']) {
    if (!options[needed]) throw new Error(`--${needed} is required`)
  }
  return options
}

const now = () => Number(process.hrtime.bigint()) / 1e6 // milliseconds
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const keyOf = (i) => `o-${i % 10000}`
const PRODUCE_BATCH = 1000

function percentile(sorted, pct) {
  const rank = Math.ceil((pct / 100) * sorted.length)
  return sorted[Math.max(rank, 1) - 1]
}

function latencySummary(samples) {
  const sorted = Float64Array.from(samples).sort()
  return { samples: sorted.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) }
}

/** Calls send(i) at `rate` per second for `seconds`; returns when every send was called. */
async function atFixedRate(rate, seconds, send) {
  const total = Math.round(rate * seconds)
  const start = now()
  let i = 0
  while (i < total) {
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate) + 1)
    while (i < due) {
      send(i)
      i += 1
    }
    await sleep(1)
  }
}

// ---------------------------------------------------------------- KafkaJS

function kafkajsClient(req, options) {
  const { Kafka, Partitioners, logLevel } = req('kafkajs')
  return {
    kafka: new Kafka({ clientId: 'bench', brokers: [options.bootstrap], logLevel: logLevel.ERROR }),
    Partitioners,
  }
}

async function kafkajsProducer(req, options) {
  const { kafka, Partitioners } = kafkajsClient(req, options)
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1, // KafkaJS keeps the idempotent sequence safe only with one
  })
  await producer.connect()
  return producer
}

const kafkajs = {
  async produce(req, options, value) {
    const producer = await kafkajsProducer(req, options)
    if (options['per-message']) return kafkajsProducePerMessage(producer, options, value)
    const start = now()
    for (let i = 0; i < options.count; i += PRODUCE_BATCH) {
      const messages = []
      for (let j = i; j < Math.min(options.count, i + PRODUCE_BATCH); j += 1) {
        messages.push({ key: keyOf(j), value })
      }
      await producer.send({ topic: options.topic, acks: -1, messages })
    }
    const seconds = (now() - start) / 1000
    await producer.disconnect()
    return { messages: options.count, seconds }
  },

  async consume(req, options) {
    const { kafka } = kafkajsClient(req, options)
    const consumer = kafka.consumer({ groupId: options.group })
    await consumer.connect()
    await consumer.subscribe({ topic: options.topic, fromBeginning: true })
    let seen = 0
    let first = null
    let last = null
    let bytes = 0
    await new Promise((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            if (first === null) first = now()
            for (const message of batch.messages) bytes += message.value.length
            seen += batch.messages.length
            if (seen >= options.count) {
              last = now()
              resolve()
            }
          },
        })
        .catch(reject)
    })
    await consumer.disconnect()
    return { messages: seen, seconds: (last - first) / 1000, bytes }
  },

  async latency(req, options, value) {
    const producer = await kafkajsProducer(req, options)
    const samples = []
    const pending = []
    const warmup = Math.round(options.rate * options['warmup-seconds'])
    await atFixedRate(options.rate, options.seconds, (i) => {
      const sent = now()
      pending.push(
        producer.send({ topic: options.topic, acks: -1, messages: [{ key: keyOf(i), value }] }).then(() => {
          if (i >= warmup) samples.push(now() - sent)
        }),
      )
    })
    await Promise.all(pending)
    await producer.disconnect()
    return latencySummary(samples)
  },
}

/**
 * One message per send(), up to PRODUCE_BATCH sends outstanding: how a service that emits
 * events one at a time uses KafkaJS. KafkaJS does not merge sends into one request.
 */
async function kafkajsProducePerMessage(producer, options, value) {
  const start = now()
  const outstanding = new Set()
  for (let i = 0; i < options.count; i += 1) {
    const sent = producer.send({ topic: options.topic, acks: -1, messages: [{ key: keyOf(i), value }] })
    outstanding.add(sent)
    sent.then(() => outstanding.delete(sent))
    if (outstanding.size >= PRODUCE_BATCH) await Promise.race(outstanding)
  }
  await Promise.all(outstanding)
  const seconds = (now() - start) / 1000
  await producer.disconnect()
  return { messages: options.count, seconds }
}

// ---------------------------------------------------------------- node-rdkafka

function rdkafkaProducer(req, options, extra = {}) {
  const Kafka = req('node-rdkafka')
  const producer = new Kafka.Producer({
    'metadata.broker.list': options.bootstrap,
    'enable.idempotence': true, // implies acks=all
    acks: 'all',
    'linger.ms': 5,
    dr_cb: true,
    ...extra,
  })
  return new Promise((resolve, reject) => {
    producer.once('ready', () => resolve({ producer, Kafka }))
    producer.once('event.error', reject)
    producer.connect()
  })
}

/** produce(), waiting while librdkafka's local queue is full. */
async function rdkafkaSend(producer, Kafka, topic, value, key, opaque) {
  for (;;) {
    try {
      producer.produce(topic, null, value, key, null, opaque)
      return
    } catch (error) {
      if (error.code !== Kafka.CODES.ERRORS.ERR__QUEUE_FULL) throw error
      await sleep(1)
    }
  }
}

function rdkafkaDisconnect(client) {
  return new Promise((resolve) => client.disconnect(() => resolve()))
}

const nodeRdkafka = {
  async produce(req, options, value) {
    const { producer, Kafka } = await rdkafkaProducer(req, options)
    producer.setPollInterval(5)
    let delivered = 0
    let failure = null
    const done = new Promise((resolve) => {
      producer.on('delivery-report', (error) => {
        if (error) failure = error
        delivered += 1
        if (delivered === options.count) resolve()
      })
    })
    const start = now()
    for (let i = 0; i < options.count; i += 1) {
      await rdkafkaSend(producer, Kafka, options.topic, value, keyOf(i))
    }
    await done
    const seconds = (now() - start) / 1000
    if (failure) throw failure
    await rdkafkaDisconnect(producer)
    return { messages: delivered, seconds }
  },

  async consume(req, options) {
    const Kafka = req('node-rdkafka')
    const consumer = new Kafka.KafkaConsumer(
      {
        'group.id': options.group,
        'metadata.broker.list': options.bootstrap,
        'enable.auto.commit': false,
      },
      { 'auto.offset.reset': 'earliest' },
    )
    await new Promise((resolve, reject) => {
      consumer.once('ready', resolve)
      consumer.once('event.error', reject)
      consumer.connect()
    })
    consumer.subscribe([options.topic])
    consumer.setDefaultConsumeTimeout(100)
    let seen = 0
    let first = null
    let bytes = 0
    const consumeBatch = () =>
      new Promise((resolve, reject) => {
        consumer.consume(10000, (error, messages) => (error ? reject(error) : resolve(messages)))
      })
    while (seen < options.count) {
      const messages = await consumeBatch()
      if (messages.length > 0 && first === null) first = now()
      for (const message of messages) bytes += message.value.length
      seen += messages.length
    }
    const last = now()
    await rdkafkaDisconnect(consumer)
    return { messages: seen, seconds: (last - first) / 1000, bytes }
  },

  async latency(req, options, value) {
    const { producer, Kafka } = await rdkafkaProducer(req, options)
    producer.setPollInterval(1)
    const samples = []
    const warmup = Math.round(options.rate * options['warmup-seconds'])
    const total = Math.round(options.rate * options.seconds)
    let delivered = 0
    const done = new Promise((resolve) => {
      producer.on('delivery-report', (error, report) => {
        if (error) throw error
        const { i, sent } = report.opaque
        if (i >= warmup) samples.push(now() - sent)
        delivered += 1
        if (delivered === total) resolve()
      })
    })
    await atFixedRate(options.rate, options.seconds, (i) => {
      producer.produce(options.topic, null, value, keyOf(i), null, { i, sent: now() })
    })
    await done
    await rdkafkaDisconnect(producer)
    return latencySummary(samples)
  },
}

// ---------------------------------------------------------------- main

/** Peak RSS since exec (Linux VmHWM; maxRSS is carried across fork and exec from the parent). */
function peakRssKib() {
  try {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))
    if (line) return Number(line.split(/\s+/)[1])
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS
}

const CLIENTS = { kafkajs, 'node-rdkafka': nodeRdkafka }

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const client = CLIENTS[options.client]
  if (client === undefined) throw new Error(`unknown client ${options.client}`)
  const req = createRequire(path.join(path.resolve(options.modules), 'noop.js'))
  const value = fs.readFileSync(options['value-file'])
  const result = await client[options.mode](req, options, value)
  const rate = result.seconds ? result.messages / result.seconds : undefined
  const peakRssMib = peakRssKib() / 1024
  console.log(JSON.stringify({ client: options.client, mode: options.mode, ...result, rate, peak_rss_mib: peakRssMib }))
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error && error.stack ? error.stack : String(error))
    process.exit(1)
  },
)
