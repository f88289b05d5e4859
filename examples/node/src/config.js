/**
 * Settings of the example, from the same environment variables ShopStream reads
 * (DESIGN.md "Configuration"), so one `export` serves the worker and the Node services.
 *
 * KAFKA_BROKER         kafka://host:port;host:port (ShopStream's form) or host:port,host:port;
 *                      default kafka://127.0.0.1:9092, the broker of `make demo`.
 * SCHEMA_REGISTRY_URL  a Confluent-compatible registry (Apicurio: .../apis/ccompat/v7); unset:
 *                      plain JSON values.
 */

export const DEFAULT_BROKER = 'kafka://127.0.0.1:9092'

/** Bootstrap servers for KafkaJS from ShopStream's KAFKA_BROKER form (or a plain list). */
export function brokersFrom(value) {
  const brokers = (value || DEFAULT_BROKER)
    .split(/[;,]/)
    .map((part) => part.trim().replace(/^kafka:\/\//, ''))
    .filter(Boolean)
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d+$/.test(broker)) {
      throw new Error(`KAFKA_BROKER: "${broker}" is not host:port (e.g. kafka://127.0.0.1:9092)`)
    }
  }
  return brokers
}

/** Everything the two services read from the environment, checked once at start-up. */
export function loadSettings(env = process.env) {
  return {
    brokers: brokersFrom(env.KAFKA_BROKER),
    registryUrl: env.SCHEMA_REGISTRY_URL || null,
  }
}
