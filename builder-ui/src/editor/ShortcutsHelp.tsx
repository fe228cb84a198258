// The keyboard shortcuts of the editor, listed in a popover opened with "?" or the help button.
export const SHORTCUTS: [string, string][] = [
  ['Ctrl+S', 'Save the draft now (edits are saved on their own; Publish makes a version)'],
  ['F2 / double-click', 'Rename the selected node'],
  ['Ctrl+Z', 'Undo'],
  ['Ctrl+Shift+Z / Ctrl+Y', 'Redo'],
  ['Delete / Backspace', 'Delete the selected nodes and edges'],
  ['Ctrl+A', 'Select all'],
  ['Ctrl+C / Ctrl+V', 'Copy / paste nodes (as pipeline JSON)'],
  ['Ctrl+D', 'Duplicate the selection'],
  ['Shift+L', 'Auto-layout'],
  ['Shift+F', 'Fit the view'],
  ['Ctrl+Enter', 'Run (with the params’ defaults)'],
  ['Shift+drag', 'Select several nodes'],
  ['?', 'This help'],
  ['Escape', 'Close dialogs, clear the selection'],
];

export function ShortcutsHelp(props: { onClose: () => void }) {
  return (
    <div className="popover" role="dialog" aria-label="Keyboard shortcuts">
      <header className="dialog-header">
        <h2>Keyboard shortcuts</h2>
        <button type="button" className="icon-button" aria-label="Close shortcuts" onClick={props.onClose}>
          ×
        </button>
      </header>
      <dl className="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
