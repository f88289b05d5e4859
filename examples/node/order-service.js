#!/usr/bin/env node
/**
 * A small order service: it publishes order lifecycles on ShopStream's input topics.
 *
 *   node order-service.js [--orders 12] [--prefix shop-node] [--step-ms 0] [--json]
 *
 * Order i plays lifecycle i mod 3 (delivered, payment-retry, cancelled; src/shop-events.js):
 * every step is published once the one before is acknowledged (acks=all, idempotent), keyed by
 * order_id, optionally --step-ms apart. Prints one line per order when its lifecycle is out
 * (JSON lines with --json). Broker and registry from KAFKA_BROKER and SCHEMA_REGISTRY_URL.
 */

import { setTimeout as sleep } from 'node:timers/promises'

import { parseArgs, runMain } from './src/cli.js'
import { codecFor } from './src/codec.js'
import { loadSettings } from './src/config.js'
import { kafkaClient, orderProducer } from './src/kafka.js'
import { EventClock, LIFECYCLES, Order } from './src/shop-events.js'

const OPTIONS = {
  orders: { type: 'number', default: 12 },
  prefix: { type: 'string', default: `shop-node-${Date.now().toString(36)}` },
  'step-ms': { type: 'number', default: 0 },
  json: { type: 'flag', default: false },
}

async function publishLifecycle(producer, codec, order, lifecycle, stepMs) {
  for (const type of LIFECYCLES[lifecycle]) {
    const { topic, key, value } = order.event(type)
    await producer.send({ topic, messages: [{ key, value: await codec.encode(topic, value) }] })
    if (stepMs > 0) await sleep(stepMs)
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2), OPTIONS)
  const settings = loadSettings()
  const codec = await codecFor(settings)
  const producer = orderProducer(kafkaClient(settings, 'shopstream-node-order-service'))
  await producer.connect()
  const names = Object.keys(LIFECYCLES)
  const clock = new EventClock()
  try {
    await Promise.all(
      Array.from({ length: options.orders }, async (_, index) => {
        const orderId = `${options.prefix}-o${index + 1}`
        const lifecycle = names[index % names.length]
        const order = new Order({
          orderId,
          customerId: `${options.prefix}-c${index + 1}`,
          sessionId: `${options.prefix}-s${index + 1}`,
          index,
          clock,
        })
        await publishLifecycle(producer, codec, order, lifecycle, options['step-ms'])
        const events = LIFECYCLES[lifecycle]
        console.log(
          options.json
            ? JSON.stringify({ order_id: orderId, lifecycle, total: order.total, events })
            : `${orderId}  ${lifecycle.padEnd(13)} ${order.total} ${order.currency}  (${events.join(', ')})`,
        )
      }),
    )
  } finally {
    await producer.disconnect()
  }
}

runMain(main)
