// The drawer under the canvas: a bar of tabs (problems, the run) that leaves the canvas the whole
// height until there is something to read; opened, it is as tall as the user drags it (remembered).
import { useEffect, useRef, useState, type ReactNode } from 'react';

export type DrawerTab = 'problems' | 'run';

const HEIGHT_KEY = 'tributary.drawerHeight';
const MIN_HEIGHT = 120;
// Low enough that with a run open the canvas keeps well over half of a 1440×900 screen.
const DEFAULT_HEIGHT = 240;

const storedHeight = () => {
  const n = Number(localStorage.getItem(HEIGHT_KEY));
  return Number.isFinite(n) && n >= MIN_HEIGHT ? n : DEFAULT_HEIGHT;
};

export function BottomDrawer(props: {
  open: DrawerTab | null;
  onOpen: (tab: DrawerTab | null) => void;
  problemCount: number;
  /** The run's label on its tab ("Run · failed"); no run tab when null. */
  runLabel: string | null;
  children: ReactNode;
}) {
  const [height, setHeight] = useState(storedHeight);
  const drag = useRef<{ y: number; height: number } | null>(null);
  const maxHeight = () => Math.max(MIN_HEIGHT, window.innerHeight * 0.75);
  const resize = (next: number) => setHeight(Math.round(Math.min(maxHeight(), Math.max(MIN_HEIGHT, next))));

  useEffect(() => localStorage.setItem(HEIGHT_KEY, String(height)), [height]);

  const toggle = (tab: DrawerTab) => props.onOpen(props.open === tab ? null : tab);
  return (
    <section className="bottom-drawer" aria-label="Bottom panel" style={props.open ? { height } : undefined}>
      {props.open && (
        <div
          className="drawer-resize"
          role="separator"
          aria-orientation="horizontal"
          aria-label="Resize bottom panel"
          aria-valuenow={height}
          aria-valuemin={MIN_HEIGHT}
          tabIndex={0}
          onPointerDown={(e) => {
            drag.current = { y: e.clientY, height };
            e.currentTarget.setPointerCapture(e.pointerId);
          }}
          onPointerMove={(e) => {
            if (drag.current) resize(drag.current.height + drag.current.y - e.clientY);
          }}
          onPointerUp={() => (drag.current = null)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowUp') resize(height + 20);
            if (e.key === 'ArrowDown') resize(height - 20);
          }}
        />
      )}
      <div role="tablist" aria-label="Bottom panel tabs" className="tabs">
        <button
          type="button"
          role="tab"
          aria-selected={props.open === 'problems'}
          onClick={() => toggle('problems')}
        >
          Problems ({props.problemCount})
        </button>
        {props.runLabel && (
          <button type="button" role="tab" aria-selected={props.open === 'run'} onClick={() => toggle('run')}>
            {props.runLabel}
          </button>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="icon-button"
          aria-label={props.open ? 'Hide bottom panel' : 'Show bottom panel'}
          aria-expanded={!!props.open}
          onClick={() => props.onOpen(props.open ? null : props.runLabel ? 'run' : 'problems')}
        >
          {props.open ? '⌄' : '⌃'}
        </button>
      </div>
      {props.open && <div className="drawer-body">{props.children}</div>}
    </section>
  );
}
