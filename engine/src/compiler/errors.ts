// The compiler's error shape: every problem it finds, each naming where it is.
export type CompileErrorCode =
  | 'invalid_document'
  | 'duplicate_node_id'
  | 'duplicate_edge'
  | 'unknown_node_type'
  | 'edge_unknown_node'
  | 'cycle'
  | 'source_with_inputs'
  | 'sink_with_outputs'
  | 'missing_input'
  | 'too_many_inputs'
  | 'invalid_placeholder'
  | 'unknown_input_reference'
  | 'undeclared_param'
  | 'unknown_param'
  | 'missing_param'
  | 'invalid_param'
  | 'invalid_param_default'
  | 'invalid_config'
  | 'invalid_connector_config'
  | 'unknown_secret'
  | 'disabled_dependency'
  | 'empty_pipeline'
  | 'invalid_sql'
  | 'unknown_table'
  | 'unknown_column'
  | 'edge_without_output'
  | 'unknown_output'
  | 'invalid_condition'
  | 'history_budget';

export interface CompileError {
  code: CompileErrorCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Where in the document: `nodes[2].config.sql`, `params.since`, … */
  path?: string;
  /** For a problem inside a SQL field: where in that field's text, 1-based (columns in UTF-16 units). */
  line?: number;
  column?: number;
}
