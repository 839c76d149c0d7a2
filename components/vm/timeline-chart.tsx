'use client';
// The boot flight recorder's chart: one horizontal bar per stage on a time axis (seconds since power-on), drawn by
// Apache ECharts (SVG renderer) — a transparent "offset" bar stacked under the visible duration bar, the classic
// Gantt layout. The failed stage is red, a running one amber.
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { TimelineStage } from '@/server/lab/timeline/types';

echarts.use([BarChart, GridComponent, TooltipComponent, SVGRenderer]);

const COLOR = { done: '#0284c7', failed: '#dc2626', running: '#d97706' } as const;
const s = (ms: number) => Math.round(ms) / 1000;

export function TimelineChart({ stages }: { stages: TimelineStage[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = echarts.init(el, null, { renderer: 'svg' });
    const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
    const text = dark ? '#d4d4d8' : '#3f3f46';
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number; seriesIndex: number }) => {
          const st = stages[p.dataIndex];
          return `<b>${st.label}</b> ${s(st.start)} → ${s(st.end)} s (${s(st.end - st.start)} s)<br/>${st.detail.replace(/&/g, '&amp;').replace(/</g, '&lt;')}`;
        },
      },
      xAxis: { type: 'value', name: 's', axisLabel: { color: text }, splitLine: { lineStyle: { color: dark ? '#3f3f46' : '#e4e4e7' } } },
      yAxis: { type: 'category', inverse: true, data: stages.map((x) => x.label), axisLabel: { color: text } },
      series: [
        { type: 'bar', stack: 't', silent: true, itemStyle: { color: 'transparent' }, data: stages.map((x) => s(x.start)) },
        {
          type: 'bar', stack: 't', barMaxWidth: 18,
          // a point-like stage (a call-home, an instant 404) still gets a visible sliver
          data: stages.map((x) => ({ value: Math.max(s(x.end - x.start), 0.05), itemStyle: { color: COLOR[x.status] } })),
          label: { show: true, position: 'right', color: text, formatter: (p: { dataIndex: number }) => `${s(stages[p.dataIndex].end - stages[p.dataIndex].start).toFixed(2)} s` },
        },
      ],
    });
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(el);
    return () => { resize.disconnect(); chart.dispose(); };
  }, [stages]);
  return <div ref={ref} data-testid="timeline-chart" role="img" aria-label="boot stages on a time axis" style={{ height: Math.max(120, stages.length * 30 + 40) }} />;
}
