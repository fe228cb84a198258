import { describe, expect, it } from 'vitest';
import { connectorConfig } from '../../python/config-paths.js';
import { streamColumns } from '../../python/stream-table.js';
import { parseMessage, secretPaths, traceError } from './airbyte-protocol.js';
import { StepError, TransientError } from '../../errors.js';

// The shape of airbyte-source-github's spec: a oneOf of credentials, each with its secret.
const GITHUB_LIKE = {
  type: 'object',
  required: ['credentials', 'repositories'],
  properties: {
    credentials: {
      type: 'object',
      oneOf: [
        {
          title: 'OAuth',
          properties: {
            option_title: { const: 'OAuth Credentials' },
            access_token: { type: 'string', airbyte_secret: true },
          },
        },
        {
          title: 'Personal Access Token',
          properties: {
            option_title: { const: 'PAT Credentials' },
            personal_access_token: { type: 'string', airbyte_secret: true },
          },
        },
      ],
    },
    repositories: { type: 'array', items: { type: 'string' } },
    client_secret: { type: 'string', airbyte_secret: true },
  },
};

describe('secretPaths', () => {
  it('finds airbyte_secret fields at the top and inside oneOf options, by dotted path', () => {
    expect(secretPaths(GITHUB_LIKE).sort()).toEqual([
      'client_secret',
      'credentials.access_token',
      'credentials.personal_access_token',
    ]);
  });
});

describe('connectorConfig', () => {
  const resolved: { name: string; use: unknown }[] = [];
  const ctx = {
    secrets: {
      resolve: (name: string, use: unknown) => {
        resolved.push({ name, use });
        return Promise.resolve(`value-of-${name}`);
      },
    },
  };
  const options = {
    pkg: 'airbyte-source-github==1.0.0',
    secretFields: new Set(secretPaths(GITHUB_LIKE)),
  };

  it('fills secret fields from project secrets, addressed to the connector', async () => {
    const config = await connectorConfig(ctx, {
      ...options,
      plain: { repositories: ['a/b'], credentials: { option_title: 'PAT Credentials' } },
      secrets: { 'credentials.personal_access_token': 'gh-token' },
    });
    expect(config).toEqual({
      repositories: ['a/b'],
      credentials: { option_title: 'PAT Credentials', personal_access_token: 'value-of-gh-token' },
    });
    expect(resolved.at(-1)).toEqual({
      name: 'gh-token',
      use: { sendTo: 'connector://airbyte-source-github' },
    });
  });

  it('refuses a plain value in a secret field, and a secret for a field that is not secret', async () => {
    await expect(
      connectorConfig(ctx, {
        ...options,
        plain: { credentials: { personal_access_token: 'ghp_x' } },
        secrets: {},
      }),
    ).rejects.toThrow(
      /config\.credentials\.personal_access_token: is a secret field of airbyte-source-github==1\.0\.0/,
    );
    await expect(
      connectorConfig(ctx, { ...options, plain: {}, secrets: { repositories: 'x' } }),
    ).rejects.toThrow(
      /secrets\.repositories: airbyte-source-github==1\.0\.0 has no secret field "repositories"/,
    );
  });
});

describe('stream columns', () => {
  it('types columns from a stream JSON Schema, nested and mixed values as jsonb', () => {
    expect(
      streamColumns({
        properties: {
          id: { type: ['null', 'integer'] },
          price: { type: 'number' },
          count: { type: 'number', airbyte_type: 'integer' },
          ok: { type: 'boolean' },
          at: { type: 'string', format: 'date-time' },
          local: { type: 'string', format: 'date-time', airbyte_type: 'timestamp_without_timezone' },
          day: { type: 'string', format: 'date' },
          name: { type: 'string' },
          address: { type: 'object', properties: {} },
          tags: { type: 'array' },
          either: { type: ['string', 'integer'] },
          nullable: { anyOf: [{ type: 'null' }, { type: 'string' }] },
          untyped: {},
        },
      }).map((c) => `${c.name} ${c.type}`),
    ).toEqual([
      'id bigint',
      'price double precision',
      'count bigint',
      'ok boolean',
      'at timestamp with time zone',
      'local timestamp without time zone',
      'day date',
      'name text',
      'address jsonb',
      'tags jsonb',
      'either jsonb',
      'nullable text',
      'untyped jsonb',
    ]);
  });
});

describe('protocol messages', () => {
  it('reads JSON message lines and skips plain text', () => {
    expect(parseMessage('{"type":"LOG","log":{"level":"INFO","message":"hi"}}')?.log?.message).toBe('hi');
    expect(parseMessage('Starting source…')).toBeUndefined();
    expect(parseMessage('{"not":"a message"}')).toBeUndefined();
  });

  it('does not retry a config_error, retries transient and system errors', () => {
    expect(traceError({ message: 'bad token', failure_type: 'config_error' }, 'x')).toBeInstanceOf(StepError);
    expect(traceError({ message: 'rate limited', failure_type: 'transient_error' }, 'x')).toBeInstanceOf(
      TransientError,
    );
    expect(traceError({ message: 'boom', failure_type: 'system_error' }, 'x').message).toBe('x: boom');
  });

  it("adds the exception to the CDK's generic message, from the stack trace's last line", () => {
    const error = traceError(
      {
        message: 'Something went wrong in the connector. See the logs for more details.',
        internal_message: "'count'",
        stack_trace:
          'Traceback (most recent call last):\n  File "run.py", line 14, in run\nKeyError: \'count\'\n',
        failure_type: 'system_error',
      },
      'airbyte-source-faker==6.2.32 (step "users")',
    );
    expect(error.message).toBe(
      'airbyte-source-faker==6.2.32 (step "users"): Something went wrong in the connector. See the logs for more details. ' +
        "(KeyError: 'count')",
    );
    expect(traceError({ message: 'bad', internal_message: 'bad' }, 'x').message).toBe('x: bad');
    expect(traceError({ message: 'bad', internal_message: 'why' }, 'x').message).toBe('x: bad (why)');
  });
});
