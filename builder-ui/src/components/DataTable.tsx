// Rows of a table as the API gives them (a preview page, a sink's target sample): a header of
// column names with their Postgres types, one line per row, NULL shown as ∅.
export interface DataColumn {
  name: string;
  type: string;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '∅';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function DataTable(props: {
  label: string;
  columns: readonly DataColumn[];
  rows: readonly Record<string, unknown>[];
  /** The first row's position in the whole table, so row keys stay stable across pages. */
  offset?: number;
}) {
  const offset = props.offset ?? 0;
  return (
    <table className="data-table" aria-label={props.label}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c.name} scope="col">
              {c.name}
              <span className="col-type">{c.type}</span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row, i) => (
          <tr key={offset + i}>
            {props.columns.map((c) => (
              <td key={c.name}>{cell(row[c.name])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
