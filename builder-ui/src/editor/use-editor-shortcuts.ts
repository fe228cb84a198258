// The editor's keyboard shortcuts and clipboard (not while typing in a field, except Ctrl+S).
import { useEffect, useRef } from 'react';
import { parseFragment } from '../model/flow.ts';
import { editorStore } from '../store/editor.ts';
import { toast } from '../store/toasts.ts';

const isEditable = (el: EventTarget | null) =>
  el instanceof HTMLElement &&
  (el.isContentEditable ||
    ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) ||
    !!el.closest('.cm-editor'));

export interface ShortcutActions {
  save(): void;
  run(): void;
  /** Renames the selected node (F2). */
  rename(): void;
  duplicate(): void;
  autoLayout(): void;
  fit(): void;
  toggleHelp(): void;
  closeDialog(): void;
}

export function useEditorShortcuts(actions: ShortcutActions): void {
  // The handlers are installed once and read the latest actions through the ref.
  const latest = useRef(actions);
  latest.current = actions;
  const clipboard = useRef<string | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = editorStore.getState();
      const a = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        a.save();
        return;
      }
      if (document.querySelector('dialog[open]')) return;
      if (isEditable(e.target)) return;
      if (mod && key === 'z') {
        e.preventDefault();
        if (e.shiftKey) s.redo();
        else s.undo();
      } else if (mod && key === 'y') {
        e.preventDefault();
        s.redo();
      } else if (mod && key === 'a') {
        e.preventDefault();
        s.selectAll();
      } else if (mod && key === 'd') {
        e.preventDefault();
        a.duplicate();
      } else if (mod && key === 'enter') {
        e.preventDefault();
        a.run();
      } else if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) {
        e.preventDefault();
        s.deleteSelection();
      } else if (!mod && e.shiftKey && key === 'l') {
        a.autoLayout();
      } else if (!mod && e.shiftKey && key === 'f') {
        a.fit();
      } else if (e.key === 'F2') {
        const selected = s.nodes.filter((n) => n.selected);
        if (selected.length === 1) {
          e.preventDefault();
          a.rename();
        }
      } else if (e.key === '?') {
        a.toggleHelp();
      } else if (e.key === 'Escape') {
        a.closeDialog();
        s.selectOnly(null);
      }
    };
    const onCopy = (e: ClipboardEvent) => {
      if (isEditable(e.target) || window.getSelection()?.toString()) return;
      const fragment = editorStore.getState().copySelection();
      if (!fragment) return;
      const text = JSON.stringify(fragment, null, 2);
      clipboard.current = text;
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
      toast('info', `Copied ${fragment.nodes.length} node${fragment.nodes.length > 1 ? 's' : ''}`);
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isEditable(e.target)) return;
      const text = e.clipboardData?.getData('text/plain');
      const fragment =
        (text && parseFragment(text)) || (clipboard.current && parseFragment(clipboard.current));
      if (!fragment) return;
      e.preventDefault();
      editorStore.getState().paste(fragment);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, []);
}
