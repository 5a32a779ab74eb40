// Narrow tables stack: when a table's box is too narrow for its columns (a laptop screen
// beside a detail panel, 200 % zoom), CSS shows each row as a card of "label value" lines
// (pages.css, the @container rule on .table-wrap). The labels are the column headers,
// copied here onto each cell as data-label, also for rows rendered later.

function labelRows(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.tBodies[0]?.rows || []) {
    [...row.cells].forEach((cell, i) => {
      const label = heads[i];
      if (label && cell.dataset.label !== label && cell.colSpan === 1) cell.dataset.label = label;
    });
  }
}

/** Label every data table of the page now and whenever its rows change. */
export function labelTables(root = document) {
  for (const table of root.querySelectorAll("table.data-table")) {
    labelRows(table);
    const body = table.tBodies[0];
    if (body) new MutationObserver(() => labelRows(table)).observe(body, { childList: true });
  }
}
