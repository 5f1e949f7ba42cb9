// The permission matrix grid: permissions as rows (grouped by area), roles as
// columns, a switch in every cell. Edits are overrides over the saved values.
import type { PermissionSet, Role } from '../api/types';
import { Switch } from '../components/Switch';
import { groupPermissions, permissionLabel, roleLabel } from '../lib/labels';

export type Overrides = Partial<Record<Role, Record<string, boolean>>>;

export interface Change {
  role: Role;
  name: string;
  from: boolean;
  to: boolean;
}

export function effective(saved: Partial<Record<Role, PermissionSet>>, overrides: Overrides, role: Role, name: string): boolean {
  const o = overrides[role]?.[name];
  return o !== undefined ? o : saved[role]?.[name] === true;
}

export function listChanges(saved: Partial<Record<Role, PermissionSet>>, overrides: Overrides, roles: Role[]): Change[] {
  const out: Change[] = [];
  for (const role of roles) {
    for (const [name, to] of Object.entries(overrides[role] ?? {})) {
      const from = saved[role]?.[name] === true;
      if (from !== to) out.push({ role, name, from, to });
    }
  }
  return out;
}

export interface PermissionMatrixProps {
  roles: Role[];
  names: string[];
  saved: Partial<Record<Role, PermissionSet>>;
  overrides: Overrides;
  onToggle: (role: Role, name: string, value: boolean) => void;
  readOnly?: boolean;
  /** Permissions that super_admin must keep: its switches for them are locked on. */
  locked?: string[];
}

export function PermissionMatrixTable({ roles, names, saved, overrides, onToggle, readOnly, locked = [] }: PermissionMatrixProps) {
  const groups = groupPermissions(names);
  return (
    <div className="table-scroll">
      <table className="table matrix" aria-label="Permissions by role">
        <thead>
          <tr>
            <th scope="col" className="matrix-perm-col">
              Permission
            </th>
            {roles.map((r) => (
              <th scope="col" key={r} className="matrix-role">
                {roleLabel(r)}
              </th>
            ))}
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.group}>
            <tr className="matrix-group">
              <th scope="colgroup" colSpan={roles.length + 1}>
                {g.group}
              </th>
            </tr>
            {g.names.map((name) => (
              <tr key={name}>
                <th scope="row" className="matrix-perm">
                  <div>{permissionLabel(name)}</div>
                  <code className="muted small">{name}</code>
                </th>
                {roles.map((role) => {
                  const value = effective(saved, overrides, role, name);
                  const changed = value !== (saved[role]?.[name] === true);
                  const isLocked = role === 'super_admin' && locked.includes(name) && value;
                  return (
                    <td key={role} className={`matrix-cell${changed ? ' matrix-cell-changed' : ''}`}>
                      <Switch
                        checked={value}
                        changed={changed}
                        disabled={readOnly || isLocked}
                        label={`${roleLabel(role)}: ${permissionLabel(name)}${isLocked ? ' (locked: super admin must keep it)' : ''}`}
                        onChange={(v) => onToggle(role, name, v)}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}
