//! Which figures of a table of people counts may be shown without identifying anyone.
//!
//! A table here is weeks by themes with its margins: the last column holds each week's total,
//! the last row each theme's total, and the corner the grand total. Any count from 1 to
//! `min_people - 1` is hidden (primary suppression). A hidden figure must not then follow from
//! the shown ones: where a row or column shows its total and all but one of its parts, the
//! hidden part is the total less the others. More generally, a hidden cell can be worked out by
//! adding and subtracting shown figures exactly when, in the graph whose nodes are the table's
//! rows and columns and whose edges are its hidden cells, that cell's edge lies on no cycle (is a
//! bridge). So further cells are hidden (complementary suppression), the smallest that helps
//! first, until no hidden cell is a bridge.
//!
//! The model treats totals as sums of their parts. Counts of distinct people are not quite
//! sums (someone who saved two themes' cards in a week counts once in the week's total), so a
//! figure safe under the model is safer still in fact. Zero is shown: "nobody" identifies no one.
//!
//! Source of the bridge criterion: a table with margins is the same linear system as a table
//! whose rows and columns sum to zero, and a cell of such a system is determined by the others
//! exactly when it is on no cycle of unknown cells (L. Cox, "Suppression methodology and
//! statistical disclosure control", JASA 75 (1980) 377-385).

/// Why a figure is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Shown as it is.
    No,
    /// Fewer than the minimum number of people (and more than none).
    Small,
    /// Hidden so that a small figure cannot be worked out from it.
    Complement,
}

impl Hidden {
    pub fn is_hidden(self) -> bool {
        self != Hidden::No
    }
}

/// Which cells of `values` to hide. `values` is rows of equal length, margins last (see the
/// module comment); a table with fewer than two rows or columns is returned with only its small
/// figures hidden, as it has no parts to subtract.
pub fn suppress(values: &[Vec<u64>], min_people: u64) -> Vec<Vec<Hidden>> {
    let rows = values.len();
    let cols = values.first().map_or(0, Vec::len);
    let mut hidden: Vec<Vec<Hidden>> = values
        .iter()
        .map(|row| {
            row.iter()
                .map(|&value| {
                    if value > 0 && value < min_people {
                        Hidden::Small
                    } else {
                        Hidden::No
                    }
                })
                .collect()
        })
        .collect();
    if rows < 2 || cols < 2 {
        return hidden;
    }
    while let Some((row, col)) = first_bridge(&hidden) {
        let Some((a, b)) = complement_for(values, &hidden, row, col) else {
            // Unreachable (the fallback always finds a shown cell), but hiding everything left is
            // the safe answer if it were ever reached.
            for line in &mut hidden {
                for cell in line.iter_mut().filter(|cell| !cell.is_hidden()) {
                    *cell = Hidden::Complement;
                }
            }
            break;
        };
        hidden[a][b] = Hidden::Complement;
    }
    hidden
}

/// Node ids: rows are `0..rows`, columns `rows..rows + cols`.
fn adjacency(hidden: &[Vec<Hidden>]) -> Vec<Vec<usize>> {
    let rows = hidden.len();
    let cols = hidden.first().map_or(0, Vec::len);
    let mut adjacent = vec![Vec::new(); rows + cols];
    for (row, line) in hidden.iter().enumerate() {
        for (col, cell) in line.iter().enumerate() {
            if cell.is_hidden() {
                adjacent[row].push(rows + col);
                adjacent[rows + col].push(row);
            }
        }
    }
    adjacent
}

/// The first hidden cell, in reading order, that lies on no cycle of hidden cells.
fn first_bridge(hidden: &[Vec<Hidden>]) -> Option<(usize, usize)> {
    let rows = hidden.len();
    let adjacent = adjacency(hidden);
    let nodes = adjacent.len();
    // Tarjan's bridge finding: discovery order and the lowest order reachable through the
    // subtree with one back edge. The graph is simple (one cell per row and column), so the edge
    // back to the parent is skipped by node.
    let mut order = vec![usize::MAX; nodes];
    let mut low = vec![0; nodes];
    let mut bridges = Vec::new();
    let mut next = 0;
    for start in 0..nodes {
        if order[start] != usize::MAX {
            continue;
        }
        // An explicit stack of (node, parent, next neighbour index) instead of recursion.
        let mut stack = vec![(start, usize::MAX, 0usize)];
        order[start] = next;
        low[start] = next;
        next += 1;
        while let Some(&mut (node, parent, ref mut index)) = stack.last_mut() {
            if let Some(&neighbour) = adjacent[node].get(*index) {
                *index += 1;
                if neighbour == parent {
                    continue;
                }
                if order[neighbour] == usize::MAX {
                    order[neighbour] = next;
                    low[neighbour] = next;
                    next += 1;
                    stack.push((neighbour, node, 0));
                } else {
                    low[node] = low[node].min(order[neighbour]);
                }
            } else {
                stack.pop();
                if parent != usize::MAX {
                    low[parent] = low[parent].min(low[node]);
                    if low[node] > order[parent] {
                        bridges.push(cell_of(rows, parent, node));
                    }
                }
            }
        }
    }
    bridges.into_iter().min()
}

fn cell_of(rows: usize, a: usize, b: usize) -> (usize, usize) {
    if a < rows {
        (a, b - rows)
    } else {
        (b, a - rows)
    }
}

/// The nodes reachable from `from` over hidden cells, leaving out the cell `(row, col)`.
fn reachable(adjacent: &[Vec<usize>], from: usize, cut: (usize, usize)) -> Vec<bool> {
    let mut seen = vec![false; adjacent.len()];
    seen[from] = true;
    let mut queue = vec![from];
    while let Some(node) = queue.pop() {
        for &next in &adjacent[node] {
            let edge = (node.min(next), node.max(next));
            if edge == cut || seen[next] {
                continue;
            }
            seen[next] = true;
            queue.push(next);
        }
    }
    seen
}

/// A shown cell whose hiding puts the bridge `(row, col)` on a cycle, or failing that brings it
/// nearer: the smallest such figure, preferring one above zero (a zero hidden protects nothing
/// and tells that the figure is either none or many).
fn complement_for(
    values: &[Vec<u64>],
    hidden: &[Vec<Hidden>],
    row: usize,
    col: usize,
) -> Option<(usize, usize)> {
    let rows = hidden.len();
    let adjacent = adjacency(hidden);
    let cut = (row, rows + col);
    let row_side = reachable(&adjacent, row, cut);
    let col_side = reachable(&adjacent, rows + col, cut);
    let shown = |a: usize, b: usize| !hidden[a][b].is_hidden();
    let best = |cells: &mut dyn Iterator<Item = (usize, usize)>| {
        cells
            .filter(|&(a, b)| shown(a, b))
            .min_by_key(|&(a, b)| (values[a][b] == 0, values[a][b], a, b))
    };
    let all = || (0..rows).flat_map(|a| (0..values[a].len()).map(move |b| (a, b)));
    // An edge between the two sides closes a cycle through the bridge.
    let closing = best(&mut all().filter(|&(a, b)| {
        (row_side[a] && col_side[rows + b]) || (col_side[a] && row_side[rows + b])
    }));
    closing.or_else(|| best(&mut all().filter(|&(a, b)| a == row || b == col)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const MIN: u64 = 5;

    /// A table with margins from its inner cells, the totals being sums.
    fn with_margins(inner: &[Vec<u64>]) -> Vec<Vec<u64>> {
        let cols = inner[0].len();
        let mut table: Vec<Vec<u64>> = inner
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.push(row.iter().sum());
                row
            })
            .collect();
        let totals = (0..=cols)
            .map(|col| table.iter().map(|row| row[col]).sum())
            .collect();
        table.push(totals);
        table
    }

    /// Whether each hidden cell is determined by the shown ones, by linear algebra rather than
    /// graphs: the cell is determined exactly when its unit vector lies in the row space of the
    /// table's equations restricted to the hidden cells.
    fn determined(hidden: &[Vec<Hidden>]) -> Vec<(usize, usize)> {
        let rows = hidden.len();
        let cols = hidden[0].len();
        let unknowns: Vec<(usize, usize)> = (0..rows)
            .flat_map(|a| (0..cols).map(move |b| (a, b)))
            .filter(|&(a, b)| hidden[a][b].is_hidden())
            .collect();
        let index = |cell: (usize, usize)| unknowns.iter().position(|&c| c == cell);
        let mut equations: Vec<Vec<f64>> = Vec::new();
        // Each week's parts sum to its total; each column's weeks sum to its total.
        for a in 0..rows - 1 {
            let mut equation = vec![0.0; unknowns.len()];
            for b in 0..cols {
                if let Some(k) = index((a, b)) {
                    equation[k] = if b == cols - 1 { -1.0 } else { 1.0 };
                }
            }
            equations.push(equation);
        }
        for b in 0..cols {
            let mut equation = vec![0.0; unknowns.len()];
            for a in 0..rows {
                if let Some(k) = index((a, b)) {
                    equation[k] = if a == rows - 1 { -1.0 } else { 1.0 };
                }
            }
            equations.push(equation);
        }
        let basis = echelon(equations);
        unknowns
            .iter()
            .enumerate()
            .filter(|&(k, _)| {
                let mut unit = vec![0.0; unknowns.len()];
                unit[k] = 1.0;
                reduce(&basis, &mut unit);
                unit.iter().all(|x| x.abs() < 1e-9)
            })
            .map(|(_, &cell)| cell)
            .collect()
    }

    /// Row echelon form: (pivot column, row) pairs.
    fn echelon(mut equations: Vec<Vec<f64>>) -> Vec<(usize, Vec<f64>)> {
        let mut basis: Vec<(usize, Vec<f64>)> = Vec::new();
        for equation in &mut equations {
            reduce(&basis, equation);
            if let Some(pivot) = equation.iter().position(|x| x.abs() > 1e-9) {
                let scale = equation[pivot];
                equation.iter_mut().for_each(|x| *x /= scale);
                basis.push((pivot, equation.clone()));
            }
        }
        basis
    }

    fn reduce(basis: &[(usize, Vec<f64>)], vector: &mut [f64]) {
        for (pivot, row) in basis {
            let factor = vector[*pivot];
            if factor.abs() > 1e-12 {
                for (x, r) in vector.iter_mut().zip(row) {
                    *x -= factor * r;
                }
            }
        }
    }

    fn hidden_cells(hidden: &[Vec<Hidden>]) -> usize {
        hidden.iter().flatten().filter(|h| h.is_hidden()).count()
    }

    #[test]
    fn large_figures_are_all_shown() {
        let table = with_margins(&[vec![10, 20, 7], vec![5, 9, 30]]);
        let hidden = suppress(&table, MIN);
        assert_eq!(hidden_cells(&hidden), 0);
    }

    #[test]
    fn one_small_part_takes_a_second_with_it_in_its_row_and_column() {
        let table = with_margins(&[vec![3, 20, 7], vec![6, 9, 30], vec![8, 12, 11]]);
        let hidden = suppress(&table, MIN);
        assert_eq!(hidden[0][0], Hidden::Small);
        // Row 0 and column 0 each hide another figure, so neither subtraction gives the 3.
        assert!(hidden[0][1..].iter().any(|h| h.is_hidden()));
        assert!(hidden[1..].iter().any(|row| row[0].is_hidden()));
        assert!(determined(&hidden).is_empty(), "{hidden:?}");
        // The smallest figures are the ones hidden with it.
        assert_eq!(hidden[1][0], Hidden::Complement, "{hidden:?}");
        assert_eq!(hidden[0][2], Hidden::Complement, "{hidden:?}");
    }

    #[test]
    fn zero_is_shown_and_is_not_hidden_to_protect_others_when_something_else_will_do() {
        let table = with_margins(&[vec![0, 2, 9], vec![0, 8, 12]]);
        let hidden = suppress(&table, MIN);
        assert_eq!(hidden[0][0], Hidden::No);
        assert_eq!(hidden[1][0], Hidden::No);
        assert_eq!(hidden[0][1], Hidden::Small);
        assert!(determined(&hidden).is_empty(), "{hidden:?}");
    }

    #[test]
    fn a_single_week_and_theme_hides_everything_small_and_its_twin_total() {
        // One week of one theme: the week's total and the theme's total are the same figure.
        let table = with_margins(&[vec![3]]);
        let hidden = suppress(&table, MIN);
        assert!(hidden.iter().flatten().all(|h| h.is_hidden()), "{hidden:?}");
        assert!(determined(&hidden).is_empty());
    }

    #[test]
    fn the_bridge_finder_agrees_with_linear_algebra() {
        // A hand-made pattern: two cycles joined by one cell, which is therefore determined.
        let n = Hidden::No;
        let s = Hidden::Small;
        let hidden = vec![
            vec![s, s, n, n],
            vec![s, s, s, n],
            vec![n, n, s, s],
            vec![n, n, s, s],
        ];
        assert_eq!(first_bridge(&hidden), Some((1, 2)));
        assert_eq!(determined(&hidden), vec![(1, 2)]);
    }

    /// The property the issue asks for: over random tables of every shape and mix of small and
    /// large figures, every figure of 1 to min - 1 people is hidden, and no hidden figure
    /// follows from the shown ones.
    #[test]
    fn no_hidden_figure_can_be_worked_out_from_the_shown_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        // Cases where hiding only the small figures would have given one away, so that the test
        // is known to meet the danger it guards against.
        let mut dangerous = 0;
        for case in 0..400 {
            let weeks = rng.gen_range(1..=7);
            let themes = rng.gen_range(1..=6);
            let min = rng.gen_range(3..=10);
            let small_share = rng.gen_range(0.0..1.0);
            let inner: Vec<Vec<u64>> = (0..weeks)
                .map(|_| {
                    (0..themes)
                        .map(|_| {
                            if rng.gen_bool(small_share) {
                                rng.gen_range(0..min)
                            } else {
                                rng.gen_range(min..60)
                            }
                        })
                        .collect()
                })
                .collect();
            let mut table = with_margins(&inner);
            if rng.gen_bool(0.5) {
                // Distinct people: a total may be less than the sum of its parts, never less
                // than its largest part.
                for row in &mut table {
                    let last = row.len() - 1;
                    let largest = row[..last].iter().copied().max().unwrap_or(0);
                    row[last] = rng.gen_range(largest..=row[last].max(largest));
                }
            }
            let hidden = suppress(&table, min);
            let primary_only: Vec<Vec<Hidden>> = hidden
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|&h| if h == Hidden::Small { h } else { Hidden::No })
                        .collect()
                })
                .collect();
            if !determined(&primary_only).is_empty() {
                dangerous += 1;
            }
            for (a, row) in table.iter().enumerate() {
                for (b, &value) in row.iter().enumerate() {
                    if value > 0 && value < min {
                        assert_eq!(hidden[a][b], Hidden::Small, "case {case}: {table:?}");
                    } else {
                        assert_ne!(hidden[a][b], Hidden::Small, "case {case}: {table:?}");
                    }
                }
            }
            let found = determined(&hidden);
            assert!(
                found.is_empty(),
                "case {case}: {found:?} can be worked out in {table:?} hidden as {hidden:?}"
            );
        }
        assert!(dangerous > 100, "only {dangerous} cases tested anything");
    }
}
