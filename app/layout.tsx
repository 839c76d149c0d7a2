import './globals.css';
import type { ReactNode } from 'react';
import type { Metadata } from 'next';
import { ClientShell } from '@/components/ui/shell';

export const metadata: Metadata = { title: 'pvmlab', description: 'A provisioning lab on one computer' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant (no input) that sets the color scheme before the first paint */}
        <script dangerouslySetInnerHTML={{ __html: "try{if(matchMedia('(prefers-color-scheme: dark)').matches&&localStorage.theme!=='light'||localStorage.theme==='dark')document.documentElement.classList.add('dark')}catch(e){}" }} />
      </head>
      <body className="min-h-screen antialiased">
        <ClientShell>{children}</ClientShell>
      </body>
    </html>
  );
}
