// Who the agents are, for pickers and "assigned to" columns. Listing agents needs
// canViewAllAgents; without it the UI knows only the signed-in agent.
import { useQuery } from '@tanstack/react-query';
import { useCallback } from 'react';
import { agentsApi } from '../api/endpoints';
import type { Agent } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { fullName } from './format';

export function useAgentDirectory() {
  const { agent: me, permissions } = useAuth();
  const canList = permissions.canViewAllAgents === true;
  const q = useQuery({
    queryKey: ['agents', 'directory'],
    queryFn: () => agentsApi.list({ status: 'active', limit: 100, page: 1 }),
    enabled: canList,
    staleTime: 60_000,
    retry: false,
  });
  const agents: Agent[] = q.data?.items ?? [];
  const nameOf = useCallback(
    (id: string | null | undefined): string => {
      if (!id) return '—';
      if (me && id === me._id) return 'You';
      const a = agents.find((x) => x._id === id);
      return a ? fullName(a) : 'Another agent';
    },
    [agents, me],
  );
  return { me, agents, canList, loading: canList && q.isPending, nameOf };
}
