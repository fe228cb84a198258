// Unsaved changes: a warning before the tab closes and before in-app navigation.
import { useEffect } from 'react';
import { setLeaveGuard } from '../router.ts';

export function useUnsavedChangesGuard(dirty: boolean): void {
  useEffect(() => {
    if (!dirty) return;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', beforeUnload);
    setLeaveGuard(() => window.confirm('This pipeline has unsaved changes. Leave without saving?'));
    return () => {
      window.removeEventListener('beforeunload', beforeUnload);
      setLeaveGuard(null);
    };
  }, [dirty]);
}
