// Markdown rendered as React elements (react-markdown, GitHub-flavoured tables and lists). Raw HTML
// in the text is not rendered, so a README cannot inject markup; links open in a new tab.
import ReactMarkdown from 'react-markdown';
import remarkGfm from 'remark-gfm';

export function Markdown({ text, label }: { text: string; label: string }) {
  return (
    <div className="markdown" aria-label={label} role="document">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        skipHtml
        components={{
          a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noreferrer noopener" />,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
