// Encrypts every Temporal payload (plans, params, step results, signals, failures' details) with
// AES-256-GCM before it leaves the process, so Temporal's database and its Web UI see ciphertext
// only. The client (API) and the worker use the same codec; the audit trail decodes history
// through it; the codec endpoint (api/codec.routes.ts) lets an operator's Temporal UI decode.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_FIELD = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const text = new TextEncoder();
const untext = new TextDecoder();

export class PayloadDecryptError extends Error {}

/** Reads TRIBUTARY_PAYLOAD_KEY: 32 bytes as 64 hex characters or base64. */
export function parsePayloadKey(value: string, variable = 'TRIBUTARY_PAYLOAD_KEY'): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) {
    throw new Error(`${variable} must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32)`);
  }
  return key;
}

/**
 * The payload key: TRIBUTARY_PAYLOAD_KEY, else (for the embedded setup, where the API and the
 * worker share one $TRIBUTARY_HOME) a key generated once into `$TRIBUTARY_HOME/payload.key`,
 * mode 0600, like master.key. Null when neither applies: payloads then go unencrypted.
 */
export function loadPayloadKey(fromEnv: string | undefined, home: string, generate: boolean): Buffer | null {
  if (fromEnv) return parsePayloadKey(fromEnv);
  const file = path.join(home, 'payload.key');
  if (!existsSync(file)) {
    if (!generate) return null;
    mkdirSync(home, { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // The API and the worker of one home may start together: the first one's key wins.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parsePayloadKey(readFileSync(file, 'utf8').trim(), file);
}

/** A short, non-secret fingerprint of the key, stored with each payload to name a key mismatch. */
export const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the payload key must be 32 bytes');
    this.keyId = keyIdOf(key);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      // The whole payload (its metadata too: the encoding says what the data is) is encrypted.
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: text.encode(ENCRYPTED_ENCODING), [KEY_ID_FIELD]: text.encode(this.keyId) },
        data: new Uint8Array(sealed),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was turned on (and recorded histories) pass as they are.
      if (!isEncrypted(payload)) return payload;
      const keyId = payload.metadata?.[KEY_ID_FIELD];
      if (keyId && untext.decode(keyId) !== this.keyId) {
        throw new PayloadDecryptError(
          `a payload was encrypted with another key (id ${untext.decode(keyId)}, ours ${this.keyId}): is TRIBUTARY_PAYLOAD_KEY the same for the API and every worker?`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptError('an encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptError('an encrypted payload does not authenticate under our key');
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && untext.decode(encoding) === ENCRYPTED_ENCODING;
}

/**
 * Decodes every encrypted payload inside a fetched workflow history (inputs, results, signals,
 * failures' details, memos, headers), wherever the proto puts it: history read with
 * `fetchHistory()` comes raw from the server, the data converter has not seen it.
 */
export async function decodeHistory<T>(history: T, codecs: readonly PayloadCodec[]): Promise<T> {
  if (codecs.length === 0) return history;
  const decodeOne = async (payload: Payload): Promise<Payload> => {
    let decoded = [payload];
    for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
    return decoded[0]!;
  };
  const visit = async (value: unknown): Promise<void> => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (isPayloadShaped(item) && isEncrypted(item)) value[i] = await decodeOne(item);
        else await visit(item);
      }
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      if (isPayloadShaped(item) && isEncrypted(item)) record[key] = await decodeOne(item);
      else await visit(item);
    }
  };
  await visit(history);
  return history;
}

function isPayloadShaped(value: unknown): value is Payload {
  return (
    typeof value === 'object' &&
    value !== null &&
    'metadata' in value &&
    typeof (value as { metadata: unknown }).metadata === 'object'
  );
}

/**
 * Temporal's remote codec protocol (what the Web UI and `temporal --codec-endpoint` send):
 * `{"payloads": [{"metadata": {k: base64}, "data": base64}]}` in, the same shape out.
 */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

export function fromJsonPayload(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

export function toJsonPayload(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
