// Checking a connector's config against its spec: field paths and what is wrong, never a value;
// secrets as present or not; a oneOf told through its closest option; invalid sub-schemas left out.
import { describe, expect, it } from 'vitest';
import { checkAgainstSpec, dummyConfig, formSpec, usableSpec } from './spec-check.js';

// The shape of airbyte-source-github's spec: a oneOf of credentials with airbyte_secret fields.
const github = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['credentials', 'repositories'],
  properties: {
    repositories: {
      type: 'array',
      items: { type: 'string', pattern: '^[\\w.-]+/[\\w.-]+$' },
      examples: ['a/b'],
    },
    start_date: { type: 'string', format: 'date-time' },
    page_size: { type: 'integer', minimum: 1 },
    credentials: {
      type: 'object',
      title: 'Authentication',
      oneOf: [
        {
          title: 'OAuth',
          type: 'object',
          required: ['option_title', 'access_token'],
          properties: {
            option_title: { type: 'string', const: 'OAuth Credentials' },
            access_token: { type: 'string', airbyte_secret: true },
          },
        },
        {
          title: 'Personal Access Token',
          type: 'object',
          required: ['option_title', 'personal_access_token'],
          properties: {
            option_title: { type: 'string', const: 'PAT Credentials' },
            personal_access_token: { type: 'string', airbyte_secret: true, pattern: '^ghp_' },
          },
        },
      ],
    },
  },
};
const spec = {
  schema: github,
  secretFields: ['credentials.access_token', 'credentials.personal_access_token'],
};

describe('checkAgainstSpec', () => {
  it('names each required field an empty config lacks', () => {
    expect(checkAgainstSpec(spec, {}, {})).toEqual([
      { path: 'credentials', message: 'is required' },
      { path: 'repositories', message: 'is required' },
    ]);
  });

  it('says what is wrong with a value without repeating it, and tells a oneOf through its closest option', () => {
    const problems = checkAgainstSpec(
      spec,
      {
        repositories: ['a/b'],
        start_date: 'yesterday-ish',
        page_size: 0,
        credentials: { option_title: 'PAT Credentials' },
      },
      {},
    );
    expect(problems).toEqual([
      {
        path: 'credentials.personal_access_token',
        message:
          'is required: a secret field, so name a project secret in secrets["credentials.personal_access_token"] (in option "Personal Access Token")',
      },
      { path: 'start_date', message: 'must match format "date-time"' },
      { path: 'page_size', message: 'must be >= 1' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('yesterday-ish');
  });

  it('takes a named secret as present and never checks its value; a value at a secret field is refused unquoted', () => {
    const config = { repositories: ['a/b'], credentials: { option_title: 'PAT Credentials' } };
    expect(checkAgainstSpec(spec, config, { 'credentials.personal_access_token': 'gh-token' })).toEqual([]);
    const plain = checkAgainstSpec(
      spec,
      { ...config, credentials: { ...config.credentials, personal_access_token: 'ghp_VERYSECRET' } },
      {},
    );
    expect(plain).toEqual([
      {
        path: 'credentials.personal_access_token',
        message:
          'is a secret field: put the name of a project secret in secrets["credentials.personal_access_token"] instead of a value',
      },
    ]);
    expect(JSON.stringify(plain)).not.toContain('VERYSECRET');
  });

  it('names the option a discriminator does not match', () => {
    const problems = checkAgainstSpec(
      spec,
      { repositories: ['a/b'], credentials: { option_title: 'Nope' } },
      {},
    );
    expect(problems).toContainEqual({
      path: 'credentials.option_title',
      message: 'must be "OAuth Credentials" (in option "OAuth")',
    });
    expect(problems).toContainEqual({
      path: 'credentials.access_token',
      message:
        'is required: a secret field, so name a project secret in secrets["credentials.access_token"] (in option "OAuth")',
    });
  });

  it('checks nothing against a spec that is not there', () => {
    expect(checkAgainstSpec({ schema: null, secretFields: [] }, { x: 1 }, {})).toEqual([]);
  });
});

describe('usableSpec', () => {
  it('leaves out a sub-schema that is not a schema, names it, and keeps the rest', () => {
    const schema = {
      type: 'object',
      required: ['path'],
      properties: {
        path: { type: 'string' },
        maps: {
          type: 'object',
          properties: { __else__: { anyOf: [{ const: '__NULL__' }, { type: 'null' }, 'null'] } },
        },
      },
    };
    const { schema: usable, omitted } = usableSpec(schema);
    expect(omitted).toEqual([
      {
        pointer: '/properties/maps/properties/__else__/anyOf/2',
        reason: 'must be object or boolean',
      },
    ]);
    expect((usable as typeof schema).properties.maps.properties.__else__.anyOf).toEqual([
      { const: '__NULL__' },
      { type: 'null' },
    ]);
    expect(checkAgainstSpec({ schema, secretFields: [] }, {}, {})).toEqual([
      { path: 'path', message: 'is required' },
    ]);
    expect(formSpec('tap-x==1', { schema, secretFields: [] }).note).toContain(
      '/properties/maps/properties/__else__/anyOf/2',
    );
    // Idempotent: a spec made usable stays as it is (the cache may hold either).
    const once = formSpec('tap-x==1', { schema, secretFields: [] });
    expect(formSpec('tap-x==1', once)).toEqual(once);
  });
});

describe('dummyConfig', () => {
  it('fills the required fields (the first option of a oneOf) and names the secrets it leaves to secrets', () => {
    const { config, secrets } = dummyConfig(github, spec.secretFields);
    expect(config).toEqual({ credentials: { option_title: 'OAuth Credentials' }, repositories: ['a/b'] });
    expect(secrets).toEqual(['credentials.access_token']);
    expect(checkAgainstSpec(spec, config, Object.fromEntries(secrets.map((s) => [s, 'x'])))).toEqual([]);
  });
});
