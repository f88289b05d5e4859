/**
 * The events an order service publishes, shaped exactly as DESIGN.md "Topics" says:
 * orders, payments and shipments keyed by order_id, money as decimal strings, times
 * ISO-8601 UTC with milliseconds, a unique event_id on every event.
 */

import { randomUUID } from 'node:crypto'

import { orderTotal } from './money.js'

/** Event type -> the topic it travels on. */
export const TOPIC_OF_TYPE = {
  order_created: 'orders',
  order_cancelled: 'orders',
  payment_authorized: 'payments',
  payment_failed: 'payments',
  payment_refunded: 'payments',
  shipment_dispatched: 'shipments',
  shipment_delivered: 'shipments',
}

/**
 * The lifecycles this service plays, as event types in the order it publishes them.
 * Each step is published once the previous one is acknowledged, as a real service would.
 */
export const LIFECYCLES = {
  delivered: ['order_created', 'payment_authorized', 'shipment_dispatched', 'shipment_delivered'],
  'payment-retry': ['order_created', 'payment_failed', 'payment_authorized'],
  cancelled: ['order_created', 'order_cancelled'],
}

const CATALOGUE = [
  { sku: 'sku-1', category: 'books', unit_price: '12.50' },
  { sku: 'sku-2', category: 'games', unit_price: '59.99' },
  { sku: 'sku-3', category: 'kitchen', unit_price: '7.25' },
  { sku: 'sku-4', category: 'garden', unit_price: '23.00' },
]

/** Event times that never go backwards within this process (ISO-8601 UTC, milliseconds). */
export class EventClock {
  #last = 0
  now() {
    this.#last = Math.max(Date.now(), this.#last + 1)
    return new Date(this.#last).toISOString()
  }
}

/** One order: its ids, its items and total, and the event of each lifecycle step. */
export class Order {
  constructor({ orderId, customerId, sessionId, index = 0, currency = 'EUR', clock = new EventClock() }) {
    const first = CATALOGUE[index % CATALOGUE.length]
    const second = CATALOGUE[(index + 1) % CATALOGUE.length]
    this.orderId = orderId
    this.customerId = customerId
    this.sessionId = sessionId
    this.currency = currency
    this.items = [
      { ...first, quantity: 1 + (index % 3) },
      { ...second, quantity: 1 },
    ].map(({ sku, category, quantity, unit_price }) => ({ sku, category, quantity, unit_price }))
    this.total = orderTotal(this.items)
    this.clock = clock
    this.payments = 0
  }

  /** The event of one lifecycle step: {topic, key, value}. */
  event(type) {
    const common = { event_id: `e-${randomUUID()}`, type, order_id: this.orderId }
    const occurred_at = this.clock.now()
    const topic = TOPIC_OF_TYPE[type]
    if (topic === undefined) throw new Error(`unknown event type ${type}`)
    let value
    if (type === 'order_created') {
      value = {
        ...common,
        customer_id: this.customerId,
        session_id: this.sessionId,
        currency: this.currency,
        total: this.total,
        items: this.items,
        occurred_at,
      }
    } else if (type === 'order_cancelled') {
      value = { ...common, reason: 'customer_request', occurred_at }
    } else if (topic === 'payments') {
      this.payments += 1
      value = {
        ...common,
        payment_id: `${this.orderId}-p${this.payments}`,
        amount: this.total,
        currency: this.currency,
        method: 'card',
        occurred_at,
      }
    } else {
      value = { ...common, shipment_id: `${this.orderId}-sh1`, carrier: 'dhl', occurred_at }
    }
    return { topic, key: this.orderId, value }
  }
}
