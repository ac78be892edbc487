#!/usr/bin/env node
/**
 * The chart README's table of the chart's values, made from values.yaml itself: each key with its default and the comment
 * written above it (or above its section).
 *
 *   node scripts/k8s/values-doc.js [chart-dir]            prints the Markdown table
 *   node scripts/k8s/values-doc.js --check [chart-dir]    exit 1 when the chart README's copy (between the markers
 *                                                         <!-- values:begin --> and <!-- values:end -->) differs
 *   node scripts/k8s/values-doc.js --write [chart-dir]    rewrites the chart README's copy
 */
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { isMap, isScalar, isSeq, parseDocument } = require('yaml');

const root = path.resolve(__dirname, '../..');
const args = process.argv.slice(2);
const mode = args.find((arg) => arg.startsWith('--'));
const chartDir = args.find((arg) => !arg.startsWith('--')) ?? path.join(root, 'deploy/helm/flash-sale');
const BEGIN = '<!-- values:begin -->';
const END = '<!-- values:end -->';

/** A comment as one line; of a comment in paragraphs (the file's header, then a key's), the last paragraph. */
const clean = (comment) =>
  (comment ?? '')
    .split('\n\n')
    .pop()
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');

/**
 * Rows [key, default, description]: a row per section with its comment, then a row per leaf (a scalar, a list, or
 * a map written on one line) with its own comment.
 */
function rows(node, prefix) {
  const out = [];
  for (const [index, pair] of node.items.entries()) {
    const key = prefix ? `${prefix}.${pair.key.value}` : String(pair.key.value);
    // The comment above a map's first key belongs to the map, for the yaml library.
    const description = clean(pair.key.commentBefore ?? (index === 0 ? node.commentBefore : undefined));
    const value = pair.value;
    if (isMap(value) && !value.flow && value.items.length > 0) {
      if (description) out.push([`**${key}**`, '', description]);
      out.push(...rows(value, key));
    } else {
      const shown = isScalar(value) || isSeq(value) || isMap(value) ? JSON.stringify(value.toJSON()) : 'null';
      out.push([`\`${key}\``, `\`${shown}\``, description]);
    }
  }
  return out;
}

function table() {
  const document = parseDocument(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
  const escape = (text) => text.replace(/\|/g, '\\|');
  const lines = ['| value | default | what it does |', '| --- | --- | --- |'];
  for (const [key, value, description] of rows(document.contents, '')) {
    lines.push(`| ${key} | ${escape(value)} | ${escape(description)} |`);
  }
  return `${lines.join('\n')}\n`;
}

const readmePath = path.join(chartDir, 'README.md');
if (mode === '--check' || mode === '--write') {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    console.error(`${path.relative(root, readmePath)} has no ${BEGIN} ... ${END} section`);
    process.exit(1);
  }
  const updated = `${readme.slice(0, start + BEGIN.length)}\n${table()}${readme.slice(end)}`;
  if (mode === '--write') writeFileSync(readmePath, updated);
  else if (updated !== readme) {
    console.error(
      `${path.relative(root, readmePath)}'s table of chart values is out of date: run node scripts/k8s/values-doc.js --write`,
    );
    process.exit(1);
  }
} else {
  process.stdout.write(table());
}
