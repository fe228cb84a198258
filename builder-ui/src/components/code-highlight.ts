// Syntax colours for CodeMirror as CSS variables (--code-*, set per theme in styles.css), so code
// follows the light or dark theme like everything else; CodeMirror's default style has fixed colours.
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';

const style = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.operatorKeyword, tags.modifier, tags.controlKeyword],
    color: 'var(--code-keyword)',
  },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--code-string)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--code-number)' },
  {
    tag: [tags.comment, tags.lineComment, tags.blockComment],
    color: 'var(--code-comment)',
    fontStyle: 'italic',
  },
  {
    tag: [tags.typeName, tags.standard(tags.name), tags.function(tags.variableName)],
    color: 'var(--code-type)',
  },
  { tag: [tags.special(tags.name), tags.propertyName, tags.labelName], color: 'var(--code-name)' },
]);

/** Add to a CodeMirror's extensions; it takes precedence over the default (fallback) style. */
export const codeHighlight = syntaxHighlighting(style);
