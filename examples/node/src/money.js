/**
 * Money as DESIGN.md wants it: decimal strings ("37.50"), never floats. Sums are
 * done in integer cents, so a total is exactly the sum of its lines.
 */

const AMOUNT = /^(\d+)\.(\d{2})$/

/** "12.50" -> 1250n */
export function toCents(amount) {
  const match = AMOUNT.exec(amount)
  if (match === null) throw new Error(`not a decimal amount with two places: "${amount}"`)
  return BigInt(match[1]) * 100n + BigInt(match[2])
}

/** 1250n -> "12.50" */
export function fromCents(cents) {
  const whole = cents / 100n
  const rest = (cents % 100n).toString().padStart(2, '0')
  return `${whole}.${rest}`
}

/** The total of order items, each {quantity, unit_price}: a decimal string. */
export function orderTotal(items) {
  return fromCents(items.reduce((sum, item) => sum + toCents(item.unit_price) * BigInt(item.quantity), 0n))
}
