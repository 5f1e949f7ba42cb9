import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetReachability } from '../api/client';
import { tokens } from '../api/tokens';

// findBy*/waitFor wait up to 5 s: the machine may be busy with other test suites.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  window.sessionStorage.clear();
  tokens.reload();
  resetReachability();
});
