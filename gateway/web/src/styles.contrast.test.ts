// The badge and banner colours of styles.css against WCAG 2.x AA: 4.5:1 for normal
// text (badges are 0.78rem, far below "large text"), computed from the stylesheet
// itself so a colour change that breaks it fails here.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'styles.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

const vars: Record<string, string> = {};
for (const m of css.matchAll(/(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)) vars[m[1]] = m[2];

function resolve(value: string): string {
  const v = value.trim();
  const m = /^var\((--[\w-]+)\)$/.exec(v);
  const hex = m ? vars[m[1]] : v;
  if (!/^#[0-9a-fA-F]{6}$/.test(hex ?? '')) throw new Error(`not a #rrggbb colour: ${value}`);
  return hex;
}

/** The text and background colours of a rule (its first block). */
function colours(selector: string): { fg: string; bg: string } {
  const esc = selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const block = new RegExp(`(^|\\n)${esc}\\s*\\{([^}]*)\\}`).exec(css);
  if (!block) throw new Error(`no rule ${selector}`);
  const fg = /(?:^|;|\n)\s*color:\s*([^;]+);/.exec(block[2]);
  const bg = /background:\s*([^;]+);/.exec(block[2]);
  if (!fg || !bg) throw new Error(`${selector} lacks color or background`);
  return { fg: resolve(fg[1]), bg: resolve(bg[1]) };
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('colour contrast (WCAG AA, 4.5:1)', () => {
  it('computes the reference ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#1a7f4b', '#e3f5ea')).toBeCloseTo(4.43, 2); // the old "ok" badge: fails
  });

  const rules = [
    '.badge-ok',
    '.badge-warn',
    '.badge-bad',
    '.badge-neutral',
    '.badge-info',
    '.chip-grant',
    '.chip-revoke',
    '.alert-error',
    '.alert-warning',
    '.alert-success',
    '.alert-info',
    '.connection-banner',
  ];
  for (const sel of rules) {
    it(`${sel} text on its background`, () => {
      const { fg, bg } = colours(sel);
      expect(contrast(fg, bg), `${sel}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    });
  }
});
