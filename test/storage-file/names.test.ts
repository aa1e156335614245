import { describe, expect, it } from 'vitest';
import { fileStem, isStemFile } from '../../src/storage-file/cache/file-names.js';

const hostile = [
  '', 'a', 'A', 'a-b', 'a/b', 'a\\b', '../../x', '..', '.', 'CON', 'con', 'nul.txt', 'e-a', 'h-a', '%0041', 'a%0041',
  'ü ☃ 🦊', '\uD800', '\uFFFD', 'ctl\u0000\n\t', '"quoted"', 'x'.repeat(150), 'x'.repeat(151), 'y'.repeat(300), 'a'.repeat(4096),
  '{"url":"/api/user?id=1","method":"GET"}',
];

describe('file names of keys and channels', () => {
  it('keeps a readable name readable', () => {
    expect(fileStem('user_lock-1')).toBe('e-user_lock-1');
    expect(fileStem('a/b')).toBe('e-a%002Fb');
  });

  it('gives safe names: no separator, no dot, short, of the stem grammar', () => {
    for (const name of hostile) {
      const stem = fileStem(name);
      expect(stem).toMatch(/^[a-zA-Z0-9_%-]+$/);
      expect(stem.length).toBeLessThanOrEqual(152);
      expect(isStemFile(`${stem}.json`, '.json')).toBe(true);
    }
  });

  it('gives distinct names to distinct strings, also ignoring letter case', () => {
    const stems = hostile.map((name) => fileStem(name).toLowerCase());
    expect(new Set(stems).size).toBe(hostile.length);
  });

  it('hashes long names with a prefix an escaped name never has', () => {
    expect(fileStem('y'.repeat(300))).toMatch(/^h-[0-9a-f]{64}$/);
    expect(fileStem('x'.repeat(150))).toMatch(/^e-x{150}$/);
    expect(fileStem('\uD800'.repeat(100))).not.toBe(fileStem('\uFFFD'.repeat(100)));
  });

  it('recognizes only its own file names', () => {
    for (const name of ['notes.json', 'e-A.json', 'e-a.json.tmp', 'h-abc.json', 'e-%00zz.json', 'e-a.lock']) {
      expect(isStemFile(name, '.json')).toBe(false);
    }
  });
});
