'use client';
// Make an element fill the window from where it starts down to the bottom (terminals and the log view
// need a real height; the page around them is laid out by others).
import { useLayoutEffect, type RefObject } from 'react';

export function useFillHeight(ref: RefObject<HTMLElement | null>, bottomGap = 24, min = 240): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    let frame = 0;
    const fit = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const top = el.getBoundingClientRect().top + window.scrollY;
        el.style.height = `${Math.max(min, Math.floor(window.innerHeight - top - bottomGap))}px`;
      });
    };
    fit();
    window.addEventListener('resize', fit);
    // The header above may change height (fonts, wrapped tabs): follow the document's layout too.
    const ro = new ResizeObserver(fit);
    if (el.parentElement) ro.observe(el.parentElement);
    return () => { cancelAnimationFrame(frame); window.removeEventListener('resize', fit); ro.disconnect(); };
  }, [ref, bottomGap, min]);
}
