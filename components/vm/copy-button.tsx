'use client';
import { useEffect, useState } from 'react';
import { Button } from '../ui/bits';
import { useToast } from '../ui/toast';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try { await navigator.clipboard.writeText(text); return; } catch { /* permission denied: fall back */ }
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand('copy');
  ta.remove();
  if (!ok) throw new Error('the browser refused to copy; select the text and copy it by hand');
}

export function CopyButton({ text, label = 'Copy', testId }: { text: string; label?: string; testId?: string }) {
  const toast = useToast();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <Button type="button" className="px-2 py-1 text-xs" data-testid={testId} aria-live="polite"
      onClick={() => copyText(text).then(() => setCopied(true), (e: Error) => toast('error', `Could not copy: ${e.message}`))}>
      {copied ? 'Copied ✓' : label}
    </Button>
  );
}
