/**
 * Values on the wire: plain JSON, or JSON in the Confluent wire format (byte 0x00, a
 * 4-byte big-endian schema id, then the JSON) when a schema registry is configured.
 *
 * With a registry the producer serializes with `@confluentinc/schemaregistry` against the
 * latest schema ShopStream registered under `<topic>-value` (topic-name strategy; it never
 * registers schemas of its own: the documents in the ShopStream repository are the contract),
 * and the listener validates each framed value against the writer's schema, fetched by id.
 * The registry client is an optional dependency (about 170 MB of cloud KMS SDKs come with
 * it), loaded only when a registry is configured: `npm ci --omit=optional` gives a plain-JSON
 * service in seconds.
 */

export const MAGIC_BYTE = 0

/**
 * The JSON Schema formats ShopStream's documents use, for the registry client's Ajv (which
 * knows none by itself and refuses a schema with an unknown format). The documents' own
 * patterns fix the shape; this checks that the date exists in the calendar.
 */
const FORMATS = {
  'date-time': (value) => !Number.isNaN(Date.parse(value)),
}

/** A codec for plain JSON values: what ShopStream reads and writes without a registry. */
export class PlainJsonCodec {
  async encode(_topic, value) {
    return Buffer.from(JSON.stringify(value), 'utf8')
  }

  async decode(_topic, bytes) {
    // A framed value is still recognised (ShopStream may write them with
    // SHOPSTREAM_OUTPUT_FORMAT=confluent-json); without a registry its id is not checked.
    const json = isFramed(bytes) ? bytes.subarray(5) : bytes
    return JSON.parse(json.toString('utf8'))
  }
}

/** A codec that writes and reads the Confluent wire format through a schema registry. */
export class RegistryJsonCodec {
  constructor(serializer, deserializer) {
    this.serializer = serializer
    this.deserializer = deserializer
  }

  static async connect(url) {
    let sr
    try {
      sr = await import('@confluentinc/schemaregistry')
    } catch (error) {
      if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error
      throw new Error(
        'SCHEMA_REGISTRY_URL is set but @confluentinc/schemaregistry is not installed ' +
          '(an optional dependency): run `npm ci` without --omit=optional',
      )
    }
    const client = new sr.SchemaRegistryClient({ baseURLs: [url] })
    const serializer = new sr.JsonSerializer(client, sr.SerdeType.VALUE, {
      autoRegisterSchemas: false,
      useLatestVersion: true,
      validate: true,
      formats: FORMATS,
    })
    const deserializer = new sr.JsonDeserializer(client, sr.SerdeType.VALUE, {
      validate: true,
      formats: FORMATS,
    })
    return new RegistryJsonCodec(serializer, deserializer)
  }

  async encode(topic, value) {
    return this.serializer.serialize(topic, value)
  }

  async decode(topic, bytes) {
    if (!isFramed(bytes)) return JSON.parse(bytes.toString('utf8'))
    return this.deserializer.deserialize(topic, bytes)
  }
}

/** True when the value starts like the Confluent wire format (0x00 and a schema id). */
export function isFramed(bytes) {
  return bytes.length > 5 && bytes[0] === MAGIC_BYTE
}

/** The codec for these settings: the registry's when SCHEMA_REGISTRY_URL is set. */
export async function codecFor(settings) {
  return settings.registryUrl ? RegistryJsonCodec.connect(settings.registryUrl) : new PlainJsonCodec()
}
