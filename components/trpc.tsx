'use client';
// The one tRPC client of a tab: HTTP for queries and mutations, one WebSocket for subscriptions.
import { useState, type ReactNode } from 'react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, httpBatchStreamLink, splitLink, wsLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '@/server/api/root';
import { keyHeaders, keyedWebSocket, sessionKey } from './session-key';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The tab's one browser client: a remount of Providers (a retried render) must not open a second tRPC socket. */
let browserClient: ReturnType<typeof createTRPCClient<AppRouter>> | null = null;

function makeClient() {
  // During server rendering nothing is fetched (queries run in the browser): an HTTP-only client suffices.
  if (typeof window === 'undefined') return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: 'http://127.0.0.1/api/trpc' })] });
  browserClient ??= makeBrowserClient();
  return browserClient;
}

function makeBrowserClient() {
  sessionKey(); // take the key out of the launch redirect's fragment before anything else
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: createWSClient({ url: wsUrl, WebSocket: keyedWebSocket(), lazy: { enabled: false, closeMs: 0 } }) }),
        // Streamed batches: a slow procedure does not hold back the fast ones batched with it.
        false: httpBatchStreamLink({ url: '/api/trpc', headers: keyHeaders }),
      }),
    ],
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, refetchOnWindowFocus: false, retry: 1 } } }));
  const [trpcClient] = useState(makeClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>{children}</TRPCProvider>
    </QueryClientProvider>
  );
}
