/**
 * The one place the services build their KafkaJS clients, so both speak to ShopStream the
 * same way: the Java-compatible partitioner (murmur2, as ShopStream's aiokafka and every
 * other Kafka client use: an order's events on orders, payments and shipments land on the
 * same partition number, which ShopStream's co-partitioning needs), an idempotent producer
 * that waits for every in-sync replica (acks=all), and quiet logs.
 */

import kafkajs from 'kafkajs'

const { Kafka, Partitioners, logLevel } = kafkajs

export function kafkaClient(settings, clientId) {
  return new Kafka({
    clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
  })
}

export function orderProducer(kafka) {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true, // implies acks=all (-1) on every send
    maxInFlightRequests: 1, // KafkaJS keeps the idempotent sequence safe with one request in flight
    allowAutoTopicCreation: false, // the ShopStream worker creates the contract's topics
  })
}
