'use client';
// Chooses the corpus: the default one, pasted text or an uploaded .txt/.jsonl file, and
// says what it holds (sentences, tokens with the model's tokenizer, lines skipped) before
// anything runs. Problems are shown as messages, never as an empty result.
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { useEffect, useMemo, useState } from 'react';
import { CorpusError, corpusFormatOf, parseCorpus } from '@/lib/corpus/parse';

export type CorpusSource = 'default' | 'paste' | 'upload';

export interface CorpusSelection {
  label: string;
  sentences: string[];
  blankLines: number;
  rejected: number;
}

/** Counting tokens live is skipped above this many sentences (the run still checks everything). */
const LIVE_TOKEN_COUNT_LIMIT = 5000;

const formatInt = (n: number) => n.toLocaleString('en-US');

interface Props {
  defaultText: string | null;
  tokenizer: PreTrainedTokenizer | null;
  maxTokens: number | null;
  onChange: (selection: CorpusSelection | null) => void;
}

export function CorpusInput({ defaultText, tokenizer, maxTokens, onChange }: Props) {
  const [source, setSource] = useState<CorpusSource>('default');
  const [pasted, setPasted] = useState('');
  const [upload, setUpload] = useState<{ name: string; text: string } | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);

  let selection: CorpusSelection | null = null;
  let problem: string | null = null;
  const text = source === 'default' ? defaultText : source === 'paste' ? pasted : (upload?.text ?? null);
  if (source === 'upload' && uploadError) problem = uploadError;
  else if (text !== null) {
    try {
      const parsed = parseCorpus(text, source === 'upload' && upload ? corpusFormatOf(upload.name) : 'txt');
      const label = source === 'default' ? 'Default corpus' : source === 'paste' ? 'Pasted text' : (upload?.name ?? '');
      selection = { label, sentences: parsed.sentences, blankLines: parsed.blankLines, rejected: parsed.rejected.length };
    } catch (e) {
      problem = e instanceof CorpusError ? `Cannot run on this corpus: ${e.message}.` : String(e);
    }
  }

  const key = selection ? `${selection.label}\u0000${selection.sentences.join('\n')}` : null;
  useEffect(() => onChange(selection), [key]); // eslint-disable-line react-hooks/exhaustive-deps

  const sentences = selection?.sentences;
  const lengths = useMemo(
    () => (sentences && tokenizer && sentences.length <= LIVE_TOKEN_COUNT_LIMIT ? sentences.map((s) => tokenizer.encode(s).length) : null),
    [key, tokenizer], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const tokens = lengths?.reduce((a, b) => a + b, 0) ?? null;
  const longest = lengths ? Math.max(...lengths) : null;
  const overLimit = lengths && maxTokens ? lengths.filter((n) => n > maxTokens).length : 0;

  const readFile = async (file: File) => {
    setUploadError(null);
    setUpload(null);
    const bytes = new Uint8Array(await file.arrayBuffer());
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      setUploadError(`Cannot read ${file.name}: it is not UTF-8 text. Upload a .txt (one sentence per line) or .jsonl file.`);
      return;
    }
    if (decoded.includes('\u0000')) {
      setUploadError(`Cannot read ${file.name}: it is not text (it contains binary data). Upload a .txt or .jsonl file.`);
      return;
    }
    setUpload({ name: file.name, text: decoded });
  };

  return (
    <article className="card" aria-label="Corpus">
      <h2>Corpus</h2>
      <fieldset className="choices">
        <legend className="sr-only">Corpus source</legend>
        {(['default', 'paste', 'upload'] as const).map((s) => (
          <label key={s}>
            <input type="radio" name="corpus-source" value={s} checked={source === s} onChange={() => setSource(s)} />
            {s === 'default' ? 'Default corpus' : s === 'paste' ? 'Paste text' : 'Upload file'}
          </label>
        ))}
      </fieldset>
      {source === 'paste' && (
        <textarea
          aria-label="Corpus text"
          placeholder="One sentence per line"
          rows={6}
          value={pasted}
          onChange={(e) => setPasted(e.target.value)}
        />
      )}
      {source === 'upload' && (
        <input type="file" aria-label="Corpus file" accept=".txt,.jsonl,text/plain" onChange={(e) => e.target.files?.[0] && readFile(e.target.files[0])} />
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {selection && (
        <dl className="facts">
          <dt>Sentences</dt>
          <dd data-testid="corpus-sentences">{formatInt(selection.sentences.length)}</dd>
          <dt>Tokens</dt>
          <dd data-testid="corpus-tokens">
            {tokens === null
              ? selection.sentences.length > LIVE_TOKEN_COUNT_LIMIT
                ? 'counted when the run starts'
                : 'counting with the model’s tokenizer…'
              : `${formatInt(tokens)} (with [CLS]/[SEP])`}
          </dd>
          <dt>Points per head</dt>
          <dd>{tokens === null ? '…' : `${formatInt(tokens * 2)} (a query and a key per token)`}</dd>
          <dt>Longest sentence</dt>
          <dd data-testid="corpus-longest">{longest === null ? '…' : `${formatInt(longest)} tokens`}</dd>
          {(selection.blankLines > 0 || selection.rejected > 0) && (
            <>
              <dt>Skipped</dt>
              <dd data-testid="corpus-skipped">
                {[selection.blankLines && `${selection.blankLines} blank line(s)`, selection.rejected && `${selection.rejected} unusable .jsonl line(s)`].filter(Boolean).join(', ')}
              </dd>
            </>
          )}
        </dl>
      )}
      {overLimit > 0 && (
        <p className="warning" role="note" data-testid="corpus-over-limit">
          {overLimit} sentence(s) exceed the model’s {maxTokens} tokens; each will be split into parts of at most {maxTokens} tokens and read separately.
        </p>
      )}
      {selection && source === 'default' && (
        <ol className="preview">
          {selection.sentences.slice(0, 6).map((s, i) => (
            <li key={i}>{s}</li>
          ))}
        </ol>
      )}
    </article>
  );
}
