# The dlt peer of the load benchmark: the CSV streamed in Arrow batches into Postgres, loaded with
# dlt's csv file format (COPY), the fastest way dlt offers for this destination.
import sys

import dlt
import pyarrow.csv as pacsv

path, url, table, work_dir = sys.argv[1:5]


@dlt.resource(name=table, write_disposition="replace")
def orders():
    yield from pacsv.open_csv(path)


pipeline = dlt.pipeline(
    pipeline_name=f"bench_{table}",
    destination=dlt.destinations.postgres(url),
    dataset_name="bench_dlt",
    pipelines_dir=work_dir,
)
pipeline.run(orders(), loader_file_format="csv")
