// The branch switcher in the header: the project, main or one of its development branches, a
// field to make a new branch, and the way to the branch's changes (diff and merge).
import { useState, type FormEvent } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { useResource } from '../api/use-resource.ts';
import { navigate } from '../router.ts';
import { useBranch } from '../store/branch.ts';
import { toast } from '../store/toasts.ts';
import { Link } from './ui.tsx';

export function BranchSwitcher() {
  const current = useBranch((s) => s.current);
  const switchTo = useBranch((s) => s.switchTo);
  const projects = useResource(() => Api.projects(), []);
  const [project, setProject] = useState(current?.project ?? 'default');
  const branches = useResource(() => Api.branches(project), [project]);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);

  const choose = (branch: string) => {
    switchTo(branch ? { project, name: branch } : null);
    navigate('/pipelines');
  };

  const make = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const made = await Api.createBranch(project, name.trim());
      toast('success', `Branch ${made.name} made from main of ${project}`);
      setName('');
      branches.reload();
      choose(made.name);
    } catch (error) {
      toast('error', messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const selected = current && current.project === project ? current.name : '';
  return (
    <section className="branch-switcher" aria-label="Branch">
      {/* Named by aria-label only, so these never answer for another screen's "Project" field. */}
      <div className="branch-field">
        <span aria-hidden="true">Project</span>
        <select value={project} onChange={(e) => setProject(e.target.value)} aria-label="Branch project">
          {(projects.data?.items ?? [{ id: project }]).map((p) => (
            <option key={p.id} value={p.id}>
              {p.id}
            </option>
          ))}
        </select>
      </div>
      <div className="branch-field">
        <span aria-hidden="true">Branch</span>
        <select value={selected} onChange={(e) => choose(e.target.value)} aria-label="Branch">
          <option value="">main</option>
          {(branches.data?.items ?? []).map((b) => (
            <option key={b.name} value={b.name}>
              {b.name}
            </option>
          ))}
        </select>
      </div>
      {current && (
        <p className="branch-current">
          On <strong>{current.name}</strong> of {current.project} ·{' '}
          <Link to={`/branches/${current.project}/${current.name}`}>Changes</Link>
        </p>
      )}
      <form onSubmit={(e) => void make(e)} className="branch-new">
        <input
          aria-label="New branch name"
          placeholder="new-branch"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button type="submit" disabled={busy || !name.trim()}>
          Make branch
        </button>
      </form>
    </section>
  );
}
