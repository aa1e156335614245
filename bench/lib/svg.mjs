// A small grouped bar chart (no dependencies): one group per workload, one bar per mode.
const esc = (s) => String(s).replace(/[<&>]/g, (c) => ({ '<': '&lt;', '&': '&amp;', '>': '&gt;' })[c]);

export const barChart = ({ title, unit, groups, modes, value }) => {
  const width = 760;
  const height = 300;
  const left = 60;
  const bottom = 60;
  const plotH = height - bottom - 40;
  const max = Math.max(1e-9, ...groups.flatMap((g) => modes.map((m) => value(g, m) ?? 0)));
  const groupW = (width - left - 20) / groups.length;
  const barW = Math.min(40, (groupW - 20) / modes.length);
  const colors = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1'];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#333"/>`,
    `<text x="12" y="${40 + plotH / 2}" transform="rotate(-90 12 ${40 + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`,
  ];
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + 10;
    modes.forEach((m, mi) => {
      const v = value(g, m) ?? 0;
      const h = (v / max) * plotH;
      const x = x0 + mi * barW;
      parts.push(`<rect x="${x}" y="${height - bottom - h}" width="${barW - 4}" height="${h}" fill="${colors[mi % colors.length]}"/>`);
      parts.push(`<text x="${x + barW / 2 - 2}" y="${height - bottom - h - 4}" text-anchor="middle" font-size="10">${esc(v.toFixed(v < 10 ? 1 : 0))}</text>`);
    });
    parts.push(`<text x="${x0 + (modes.length * barW) / 2}" y="${height - bottom + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  modes.forEach((m, mi) => {
    parts.push(`<rect x="${left + mi * 160}" y="${height - 24}" width="12" height="12" fill="${colors[mi % colors.length]}"/>`);
    parts.push(`<text x="${left + mi * 160 + 16}" y="${height - 14}">${esc(m)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
};
