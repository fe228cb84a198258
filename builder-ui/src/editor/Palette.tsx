// The palette: node types from /api/connectors grouped by kind, each with its declared title, icon
// and category. Drag one onto the canvas, or click
// it (or press Enter on it) to add it at the centre of the view.
import { useState } from 'react';
import { NodeIcon } from '../components/ui.tsx';
import type { NodeKind } from '../model/types.ts';
import type { Connector } from '../api/types.ts';

export const DRAG_MIME = 'application/x-tributary-node-type';

const GROUPS: { kind: NodeKind; title: string }[] = [
  { kind: 'source', title: 'Sources' },
  { kind: 'transform', title: 'Transforms' },
  { kind: 'sink', title: 'Sinks' },
];

const COLLAPSED_KEY = 'tributary.paletteCollapsed';

export function Palette(props: { connectors: Connector[]; onAdd: (type: string) => void }) {
  const [filter, setFilter] = useState('');
  // Collapsed to icons unless the user opened it: the canvas comes first.
  const [collapsed, setCollapsedState] = useState(() => localStorage.getItem(COLLAPSED_KEY) !== 'false');
  const setCollapsed = (value: boolean) => {
    localStorage.setItem(COLLAPSED_KEY, String(value));
    setCollapsedState(value);
  };
  const f = filter.trim().toLowerCase();
  const shown = props.connectors.filter(
    (c) => !f || `${c.title} ${c.type} ${c.category} ${c.description}`.toLowerCase().includes(f),
  );
  return (
    <aside className={`palette${collapsed ? ' palette-collapsed' : ''}`} aria-label="Node palette">
      <button
        type="button"
        className="icon-button palette-toggle"
        aria-label={collapsed ? 'Expand palette' : 'Collapse palette'}
        aria-expanded={!collapsed}
        title={collapsed ? 'Show node names and the filter' : 'Collapse to icons'}
        onClick={() => setCollapsed(!collapsed)}
      >
        {collapsed ? '»' : '«'}
      </button>
      {!collapsed && (
        <input
          type="search"
          className="palette-filter"
          placeholder="Filter node types"
          aria-label="Filter node types"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      )}
      {GROUPS.map((group) => {
        const items = shown.filter((c) => c.kind === group.kind);
        if (items.length === 0) return null;
        return (
          <section key={group.kind} className="palette-group" aria-label={group.title}>
            <h3 title={group.title}>{collapsed ? group.title.slice(0, 3) : group.title}</h3>
            <ul>
              {items.map((c) => (
                <li key={c.type}>
                  <button
                    type="button"
                    className={`palette-item palette-${c.kind}`}
                    draggable
                    aria-label={`${c.title} (${c.type})`}
                    title={`${c.title} (${c.category}): ${c.description}\nDrag onto the canvas, or click to add.`}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DRAG_MIME, c.type);
                      e.dataTransfer.setData('text/plain', c.type);
                      e.dataTransfer.effectAllowed = 'move';
                    }}
                    onClick={() => props.onAdd(c.type)}
                  >
                    <NodeIcon name={c.icon} />
                    <span className="palette-text">
                      <span className="palette-title">{c.title}</span>
                      <span className="palette-type">{c.type}</span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
      {shown.length === 0 && <p className="muted">No node type matches “{filter}”.</p>}
    </aside>
  );
}
