# The harness of transform.python, run inside the sandbox: reads the step's input tables (CSV files
# the activity streamed out of Postgres with COPY), calls the user's `transform(inputs, params)`,
# and writes its result as CSV plus the Postgres type of each column, which the activity COPYs into
# the step's output table. The user's code is a file of its own, so tracebacks name its lines.
import importlib.util
import json
import os
import sys

NULL = '\\N'
INTEGER = {'smallint', 'integer', 'bigint'}
FLOAT = {'real', 'double precision'}


def read_input(pd, spec):
    # Types are given to the CSV reader itself where it can parse them (as fast as its own
    # inference); the rest is converted after reading.
    dtype, dates, after = {}, [], []
    for column in spec['columns']:
        name, pgtype = column['name'], column['type']
        if pgtype in INTEGER:
            dtype[name] = 'Int64'
        elif pgtype in FLOAT or pgtype.startswith('numeric'):
            dtype[name] = 'float64'
        elif pgtype == 'boolean':
            dtype[name] = 'boolean'
        elif pgtype == 'date' or pgtype.startswith('timestamp'):
            dtype[name] = str
            dates.append((name, pgtype.endswith('with time zone')))
        else:
            dtype[name] = str
            if pgtype in ('json', 'jsonb'):
                after.append(name)
    frame = pd.read_csv(
        spec['path'],
        dtype=dtype,
        keep_default_na=False,
        na_values=[NULL],
        true_values=['t'],
        false_values=['f'],
        encoding='utf-8',
    )
    for name, utc in dates:
        frame[name] = pd.to_datetime(frame[name], utc=utc)
    for name in after:
        frame[name] = frame[name].map(lambda v: v if v is None or v != v else json.loads(v))
    return frame


def pg_type(pd, series):
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return 'boolean'
    if pd.api.types.is_integer_dtype(dtype):
        return 'bigint'
    if pd.api.types.is_float_dtype(dtype):
        return 'double precision'
    if isinstance(dtype, pd.DatetimeTZDtype):
        return 'timestamp with time zone'
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return 'timestamp without time zone'
    sample = series.dropna()
    if len(sample) and sample.map(lambda v: isinstance(v, (dict, list))).any():
        return 'jsonb'
    if len(sample) and sample.map(lambda v: isinstance(v, bool)).all():
        return 'boolean'
    return 'text'


def main(job):
    import pandas as pd

    spec = importlib.util.spec_from_file_location('step', job['code'])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, 'transform', None)
    if not callable(function):
        raise NameError('the code defines no function transform(inputs, params)')

    inputs = {name: read_input(pd, spec_) for name, spec_ in job['inputs'].items()}
    if job['api'] == 'arrow':
        import pyarrow as pa

        inputs = {name: pa.Table.from_pandas(frame, preserve_index=False) for name, frame in inputs.items()}
    result = function(inputs, job['params'])

    if type(result).__module__.startswith('pyarrow'):
        result = result.to_pandas()
    if not isinstance(result, pd.DataFrame):
        raise TypeError('transform() returned %s; return a pandas DataFrame or a pyarrow Table' % type(result).__name__)
    names = [str(c) for c in result.columns]
    if len(set(names)) != len(names):
        raise ValueError('the returned table has duplicate column names: %s' % names)
    result.columns = names
    columns = [{'name': name, 'type': pg_type(pd, result[name])} for name in names]
    for column in columns:
        if column['type'] == 'jsonb':
            result[column['name']] = result[column['name']].map(
                lambda v: None if v is None or (isinstance(v, float) and v != v) else json.dumps(v)
            )
    result.to_csv(job['output'], index=False, na_rep=NULL, encoding='utf-8')
    with open(job['output'] + '.json', 'w', encoding='utf-8') as out:
        json.dump({'columns': columns, 'rows': len(result)}, out)


def finish():
    # The output files are closed: exit without the interpreter's teardown, which with pandas
    # loaded (thousands of objects and modules to finalise) takes longer than a 1-row step itself
    # (measured: 90-440 ms of a warm step's 100-450 ms from job to exit, 10-40 ms without it).
    # Whatever the user's code left behind (threads, open files in /scratch) is discarded with
    # the scratch directory anyway.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == '__main__':
    with open(sys.argv[1], encoding='utf-8') as job_file:
        main(json.load(job_file))
    finish()
