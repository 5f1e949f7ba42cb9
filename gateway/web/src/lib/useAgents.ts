// Who the agents are, for pickers and "assigned to" columns, from the agent directory
// (GET /api/agents/directory: canViewAllAgents, canAssignLeads or canViewAllBookings).
// Names are fetched for the ids a page shows (?ids=, batched, at most 20 a request)
// and kept for the session; pickers search it as you type (useAgentSearch). Without
// any of those permissions the UI knows only the signed-in agent.
import { useQuery } from '@tanstack/react-query';
import { useCallback, useSyncExternalStore } from 'react';
import { agentsApi } from '../api/endpoints';
import type { DirectoryAgent, PermissionSet } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { fullName } from './format';
import { isObjectId } from './listParams';
import { useDebounced } from './useDebounced';

export const DIRECTORY_IDS_MAX = 20;
export const AGENT_SEARCH_LIMIT = 10;
export const AGENT_SEARCH_DEBOUNCE_MS = 250;

export function canUseDirectory(p: PermissionSet): boolean {
  return p.canViewAllAgents === true || p.canAssignLeads === true || p.canViewAllBookings === true;
}

// ---- the names known so far: id -> agent, or null (asked, not found) ------------
const names = new Map<string, DirectoryAgent | null>();
const pending = new Set<string>();
const listeners = new Set<() => void>();
let version = 0;
let timer: ReturnType<typeof setTimeout> | null = null;

function notify() {
  version++;
  for (const l of listeners) l();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

async function flush() {
  timer = null;
  const ids = [...pending];
  pending.clear();
  for (let i = 0; i < ids.length; i += DIRECTORY_IDS_MAX) {
    const chunk = ids.slice(i, i + DIRECTORY_IDS_MAX);
    try {
      const got = await agentsApi.directory({ ids: chunk, limit: chunk.length });
      for (const id of chunk) names.set(id, got.find((a) => a._id === id) ?? null);
    } catch {
      for (const id of chunk) names.set(id, null); // shown as "Another agent"
    }
  }
  notify();
}

/** Asks for the name of id (once), with the others asked in the same render. */
function want(id: string) {
  if (names.has(id) || pending.has(id)) return;
  pending.add(id);
  if (timer === null) timer = setTimeout(() => void flush(), 0);
}

/** Agents a search returned: their names are known now. */
export function rememberAgents(list: DirectoryAgent[]) {
  let added = false;
  for (const a of list) {
    if (names.get(a._id)?.firstName !== a.firstName || names.get(a._id)?.lastName !== a.lastName) added = true;
    names.set(a._id, a);
  }
  if (added) notify();
}

/** Forgets every name (sign-out; tests). */
export function resetAgentNames() {
  names.clear();
  pending.clear();
  if (timer !== null) clearTimeout(timer);
  timer = null;
  notify();
}

export function useAgentDirectory() {
  const { agent: me, permissions } = useAuth();
  const canList = canUseDirectory(permissions);
  const v = useSyncExternalStore(subscribe, () => version);
  const agentOf = useCallback(
    (id: string | null | undefined): DirectoryAgent | undefined => {
      if (!id) return undefined;
      const a = names.get(id.toLowerCase());
      if (a === undefined && canList && isObjectId(id)) want(id.toLowerCase());
      return a ?? undefined;
    },
    // v: a new function once more names are known, so memoised users re-render
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [canList, v],
  );
  const nameOf = useCallback(
    (id: string | null | undefined): string => {
      if (!id) return '—';
      if (me && id === me._id) return 'You';
      const a = agentOf(id);
      return a ? fullName(a) : 'Another agent';
    },
    [agentOf, me],
  );
  return { me, canList, agentOf, nameOf };
}

/** Active agents matching text (debounced), while enabled. */
export function useAgentSearch(text: string, enabled: boolean) {
  const { permissions } = useAuth();
  const search = useDebounced(text.trim(), AGENT_SEARCH_DEBOUNCE_MS);
  const q = useQuery({
    queryKey: ['agents', 'directory', search],
    queryFn: async () => {
      const list = await agentsApi.directory({ search: search || undefined, limit: AGENT_SEARCH_LIMIT });
      rememberAgents(list);
      return list;
    },
    enabled: enabled && canUseDirectory(permissions),
    staleTime: 30_000,
    retry: false,
  });
  return { search, ...q };
}
