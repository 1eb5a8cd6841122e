import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nginxTokens, snippetRefusal } from './snippets';

/** A snippet goes inside the site's own block: read as each web server reads it, it must stay there. */
describe('Module: snippets', () => {
  it('reads # as a comment only where a token starts, as nginx does, so a#; } server { ... } is refused', () => {
    const leaving = 'set $v a#; } server { listen 80; server_name other.example; location / { return 200; } ';
    expect(snippetRefusal('nginx', leaving)).toBeDefined();
    expect(nginxTokens('set $v a#b;')?.map((t) => (t.kind === 'word' ? t.text : t.kind))).toEqual([
      'set',
      '$v',
      'a#b',
      ';',
    ]);
    // a real comment, quotes and ${variables} are not structure
    for (const fine of [
      'add_header X-Frame-Options SAMEORIGIN; # } server {',
      'add_header X-Note "a } brace and a # mark";',
      "return 200 '{ not a block }';",
      'set $x "${host}"; add_header X-Host ${x};',
      'location /api { proxy_set_header Host $host; }',
    ]) {
      expect(snippetRefusal('nginx', fine), fine).toBeUndefined();
    }
    for (const refused of [
      '} server {',
      'server { listen 81; }',
      'include /etc/passwd;',
      'location / {',
      '"unclosed',
    ]) {
      expect(snippetRefusal('nginx', refused), refused).toBeDefined();
    }
  });

  it('refuses every way of ending the block and opening another, however it is dressed', () => {
    const word = fc.constantFrom(
      'set',
      '$v',
      'a',
      'a#',
      'b#c',
      'x\\;',
      'return',
      '200',
      '"q"',
      "'s'",
      '${host}',
    );
    const filler = fc.array(word, { maxLength: 4 }).map((w) => w.join(' '));
    const closing = fc.constantFrom('}', ' }', '\n}', ';}', '; }');
    const opening = fc.constantFrom('server {', 'server{', 'http {', 'upstream u {', 'events {');
    fc.assert(
      fc.property(filler, closing, filler, opening, (before, close, between, open) => {
        const snippet = `${before};${close} ${between}; ${open} listen 80; }`;
        // whatever the filler, the snippet either does not parse or leaves the site's block
        expect(snippetRefusal('nginx', snippet)).toBeDefined();
      }),
    );
  });

  it("keeps an Apache snippet inside the site's virtual host", () => {
    expect(snippetRefusal('apache', '<Location /x>\n  Require all denied\n</Location>')).toBeUndefined();
    expect(snippetRefusal('apache', '# </VirtualHost>\nHeader set X-A b')).toBeUndefined();
    for (const refused of [
      '</VirtualHost>\n<VirtualHost *:80>\nServerName other.example',
      '<VirtualHost *:80>\n</VirtualHost>',
      '</Directory>',
      '<Location /x>',
      'Include /etc/apache2/secrets.conf',
    ]) {
      expect(snippetRefusal('apache', refused), refused).toBeDefined();
    }
  });

  it("keeps a Caddy snippet inside the site's block", () => {
    expect(snippetRefusal('caddy', 'header X-A "a } b" # }\nrespond /health 200')).toBeUndefined();
    expect(snippetRefusal('caddy', '}\nother.example {\nrespond 200')).toBeDefined();
    expect(snippetRefusal('caddy', 'handle /x {')).toBeDefined();
  });
});
