# The PyAirbyte baseline: reads one stream of an Airbyte source into PyAirbyte's own Postgres cache,
# as its documentation shows. The source is the very executable the Tributary step runs (the same
# environment, so the same connector version and the same speed of record generation).
# Usage: python pyairbyte-load.py <source executable> <config json> <stream> <postgres url> <schema>
import json
import sys
from urllib.parse import unquote, urlparse

import airbyte as ab
from airbyte.caches import PostgresCache


def main():
    executable, config, stream, url, schema = sys.argv[1:6]
    parsed = urlparse(url)
    cache = PostgresCache(
        host=parsed.hostname,
        port=parsed.port or 5432,
        username=unquote(parsed.username or ''),
        password=unquote(parsed.password or ''),
        database=parsed.path.lstrip('/'),
        schema_name=schema,
    )
    source = ab.get_source(
        'source-faker',
        config=json.loads(config),
        local_executable=executable,
        streams=[stream],
    )
    result = source.read(cache=cache, force_full_refresh=True)
    records = result.processed_records
    print(json.dumps({'records': records}))


if __name__ == '__main__':
    main()
