// The shape of an OpenLineage RunEvent as its specification (OpenLineage.json, RunEvent 2-0-2)
// requires it, with the two dataset facets Tributary sends (SchemaDatasetFacet and
// ColumnLineageDatasetFacet), written down here as a JSON Schema: the spec's own files are not
// installable from a package registry. Formats are patterns, so no format plug-in is needed.
const uuid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const dateTime = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
const uri = '^[a-z][a-z0-9+.-]*:';

const baseFacet = {
  type: 'object',
  required: ['_producer', '_schemaURL'],
  properties: { _producer: { type: 'string', pattern: uri }, _schemaURL: { type: 'string', pattern: uri } },
};

const dataset = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: {
    namespace: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    facets: {
      type: 'object',
      additionalProperties: baseFacet,
      properties: {
        schema: {
          allOf: [
            baseFacet,
            {
              type: 'object',
              properties: {
                fields: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['name'],
                    properties: { name: { type: 'string' }, type: { type: 'string' } },
                  },
                },
              },
            },
          ],
        },
        columnLineage: {
          allOf: [
            baseFacet,
            {
              type: 'object',
              required: ['fields'],
              properties: {
                fields: {
                  type: 'object',
                  additionalProperties: {
                    type: 'object',
                    required: ['inputFields'],
                    properties: {
                      inputFields: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['namespace', 'name', 'field'],
                          properties: {
                            namespace: { type: 'string' },
                            name: { type: 'string' },
                            field: { type: 'string' },
                            transformations: {
                              type: 'array',
                              items: {
                                type: 'object',
                                required: ['type'],
                                properties: {
                                  type: { enum: ['DIRECT', 'INDIRECT'] },
                                  subtype: { type: 'string' },
                                },
                              },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      },
    },
  },
};

export const runEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['eventType', 'eventTime', 'run', 'job', 'producer', 'schemaURL'],
  properties: {
    eventType: { enum: ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] },
    eventTime: { type: 'string', pattern: dateTime },
    producer: { type: 'string', pattern: uri },
    schemaURL: { type: 'string', pattern: uri },
    run: {
      type: 'object',
      required: ['runId'],
      properties: {
        runId: { type: 'string', pattern: uuid },
        facets: { type: 'object', additionalProperties: baseFacet },
      },
    },
    job: {
      type: 'object',
      required: ['namespace', 'name'],
      properties: {
        namespace: { type: 'string', minLength: 1 },
        name: { type: 'string', minLength: 1 },
        facets: { type: 'object', additionalProperties: baseFacet },
      },
    },
    inputs: { type: 'array', items: dataset },
    outputs: { type: 'array', items: dataset },
  },
} as const;
