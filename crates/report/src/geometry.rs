//! Plot geometry in data coordinates: clipping to the plot rectangle, the f = 0 contour of a
//! gridded function (marching squares) and sign runs for shading. plotters does not clip
//! elements to the plotting area, so everything is clipped here before drawing.

use std::collections::BTreeMap;

/// A point in data coordinates.
pub(crate) type Pt = (f64, f64);

/// An axis-aligned rectangle `[x0, x1] × [y0, y1]` (x0 ≤ x1, y0 ≤ y1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Rect {
    pub(crate) fn contains(&self, p: Pt) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }
}

/// Splits `pts` at non-finite points: returns the maximal runs of finite points.
pub(crate) fn finite_runs(pts: &[Pt]) -> Vec<Vec<Pt>> {
    pts.split(|p| !(p.0.is_finite() && p.1.is_finite())).filter(|run| !run.is_empty()).map(<[Pt]>::to_vec).collect()
}

/// Liang–Barsky: the part of segment p→q inside `r`, as `(start, end, start_moved, end_moved)`.
fn clip_segment(p: Pt, q: Pt, r: &Rect) -> Option<(Pt, Pt, bool, bool)> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (pk, qk) in [(-dx, p.0 - r.x0), (dx, r.x1 - p.0), (-dy, p.1 - r.y0), (dy, r.y1 - p.1)] {
        if pk == 0.0 {
            if qk < 0.0 {
                return None;
            }
        } else {
            let t = qk / pk;
            if pk < 0.0 {
                if t > t1 {
                    return None;
                }
                t0 = t0.max(t);
            } else {
                if t < t0 {
                    return None;
                }
                t1 = t1.min(t);
            }
        }
    }
    let start = if t0 > 0.0 { (p.0 + t0 * dx, p.1 + t0 * dy) } else { p };
    let end = if t1 < 1.0 { (p.0 + t1 * dx, p.1 + t1 * dy) } else { q };
    Some((start, end, t0 > 0.0, t1 < 1.0))
}

/// Clips a polyline of finite points to `r`, returning the visible pieces (each ≥ 2 points).
pub(crate) fn clip_polyline(pts: &[Pt], r: &Rect) -> Vec<Vec<Pt>> {
    let mut out = Vec::new();
    let mut cur: Vec<Pt> = Vec::new();
    let flush = |cur: &mut Vec<Pt>, out: &mut Vec<Vec<Pt>>| {
        if cur.len() >= 2 {
            out.push(std::mem::take(cur));
        } else {
            cur.clear();
        }
    };
    for w in pts.windows(2) {
        match clip_segment(w[0], w[1], r) {
            Some((a, b, start_moved, end_moved)) => {
                if cur.is_empty() || start_moved {
                    flush(&mut cur, &mut out);
                    cur.push(a);
                }
                cur.push(b);
                if end_moved {
                    flush(&mut cur, &mut out);
                }
            }
            None => flush(&mut cur, &mut out),
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Sutherland–Hodgman: clips a polygon (implicitly closed) to `r`.
pub(crate) fn clip_polygon(poly: &[Pt], r: &Rect) -> Vec<Pt> {
    let mut out = poly.to_vec();
    for side in 0..4u8 {
        let input = std::mem::take(&mut out);
        let Some(&last) = input.last() else {
            break;
        };
        let inside = |p: Pt| match side {
            0 => p.0 >= r.x0,
            1 => p.0 <= r.x1,
            2 => p.1 >= r.y0,
            _ => p.1 <= r.y1,
        };
        let cross = |a: Pt, b: Pt| -> Pt {
            match side {
                0 | 1 => {
                    let x = if side == 0 { r.x0 } else { r.x1 };
                    let t = (x - a.0) / (b.0 - a.0);
                    (x, a.1 + t * (b.1 - a.1))
                }
                _ => {
                    let y = if side == 2 { r.y0 } else { r.y1 };
                    let t = (y - a.1) / (b.1 - a.1);
                    (a.0 + t * (b.0 - a.0), y)
                }
            }
        };
        let mut prev = last;
        for &cur in &input {
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(prev, cur)),
                (false, true) => {
                    out.push(cross(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

/// A regular grid of values `v[iy][ix]` over a rectangle; nodes at
/// `x = x0 + ix·(x1 − x0)/(nx − 1)`, `y = y0 + iy·(y1 − y0)/(ny − 1)`. Requires nx, ny ≥ 2.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid<'a> {
    pub values: &'a [Vec<f64>],
    pub nx: usize,
    pub ny: usize,
    pub rect: Rect,
}

/// A grid edge: horizontal from node (ix, iy) to (ix+1, iy), or vertical to (ix, iy+1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Edge {
    H(usize, usize),
    V(usize, usize),
}

/// "Inside" the positive region: f ≥ 0 (matches the shading and sign(f) ≥ 0 → +1).
fn inside(v: f64) -> bool {
    v >= 0.0
}

impl Grid<'_> {
    fn v(&self, ix: usize, iy: usize) -> f64 {
        self.values.get(iy).and_then(|row| row.get(ix)).copied().unwrap_or(f64::NAN)
    }

    /// Node x coordinate.
    pub(crate) fn x(&self, ix: usize) -> f64 {
        let r = self.rect;
        r.x0 + (r.x1 - r.x0) * (ix as f64 / (self.nx - 1) as f64)
    }

    /// Node y coordinate.
    pub(crate) fn y(&self, iy: usize) -> f64 {
        let r = self.rect;
        r.y0 + (r.y1 - r.y0) * (iy as f64 / (self.ny - 1) as f64)
    }

    /// Boundary between node columns k−1 and k (half a step left of node k), clamped to the rect.
    pub(crate) fn x_boundary(&self, k: usize) -> f64 {
        let r = self.rect;
        let step = (r.x1 - r.x0) / (self.nx - 1) as f64;
        (r.x0 + (k as f64 - 0.5) * step).clamp(r.x0, r.x1)
    }

    /// Boundary between node rows k−1 and k, clamped to the rect.
    pub(crate) fn y_boundary(&self, k: usize) -> f64 {
        let r = self.rect;
        let step = (r.y1 - r.y0) / (self.ny - 1) as f64;
        (r.y0 + (k as f64 - 0.5) * step).clamp(r.y0, r.y1)
    }

    /// Where f = 0 crosses `edge`, by linear interpolation t = f_a / (f_a − f_b) from the
    /// edge's lower-index node a, so neighbouring cells compute bit-identical points.
    fn crossing(&self, edge: Edge) -> Pt {
        let (a, b, pa, pb) = match edge {
            Edge::H(ix, iy) => {
                (self.v(ix, iy), self.v(ix + 1, iy), (self.x(ix), self.y(iy)), (self.x(ix + 1), self.y(iy)))
            }
            Edge::V(ix, iy) => {
                (self.v(ix, iy), self.v(ix, iy + 1), (self.x(ix), self.y(iy)), (self.x(ix), self.y(iy + 1)))
            }
        };
        let t = (a / (a - b)).clamp(0.0, 1.0);
        (pa.0 + t * (pb.0 - pa.0), pa.1 + t * (pb.1 - pa.1))
    }

    /// Marching-squares segments of the f = 0 contour, as pairs of crossed edges. Cells with a
    /// non-finite corner are skipped; saddles are resolved by the sign of the cell mean.
    fn contour_segments(&self) -> Vec<(Edge, Edge)> {
        let mut segs = Vec::new();
        for iy in 0..self.ny - 1 {
            for ix in 0..self.nx - 1 {
                let a = self.v(ix, iy);
                let b = self.v(ix + 1, iy);
                let c = self.v(ix + 1, iy + 1);
                let d = self.v(ix, iy + 1);
                if ![a, b, c, d].iter().all(|v| v.is_finite()) {
                    continue;
                }
                let sides = [
                    (Edge::H(ix, iy), a, b),     // bottom
                    (Edge::V(ix + 1, iy), b, c), // right
                    (Edge::H(ix, iy + 1), d, c), // top
                    (Edge::V(ix, iy), a, d),     // left
                ];
                let crossed: Vec<Edge> =
                    sides.iter().filter(|(_, p, q)| inside(*p) != inside(*q)).map(|(e, _, _)| *e).collect();
                match crossed.as_slice() {
                    [e1, e2] => segs.push((*e1, *e2)),
                    [_, _, _, _] => {
                        let [bottom, right, top, left] = sides.map(|s| s.0);
                        // Finite corners: the mean is finite unless it overflows; an infinite
                        // mean still has the right sign.
                        let centre = a / 4.0 + b / 4.0 + c / 4.0 + d / 4.0;
                        if inside(centre) == inside(a) {
                            segs.push((bottom, right));
                            segs.push((top, left));
                        } else {
                            segs.push((left, bottom));
                            segs.push((right, top));
                        }
                    }
                    _ => {}
                }
            }
        }
        segs
    }

    /// The f = 0 contour as polylines (closed loops repeat their first point), in a
    /// deterministic order: open chains by their smallest free end, then loops.
    pub(crate) fn zero_contour(&self) -> Vec<Vec<Pt>> {
        let segs = self.contour_segments();
        let mut adj: BTreeMap<Edge, Vec<usize>> = BTreeMap::new();
        for (i, (e1, e2)) in segs.iter().enumerate() {
            adj.entry(*e1).or_default().push(i);
            adj.entry(*e2).or_default().push(i);
        }
        let mut used = vec![false; segs.len()];
        let mut chains: Vec<Vec<Edge>> = Vec::new();
        let walk = |start: Edge, first: usize, used: &mut Vec<bool>| -> Vec<Edge> {
            let mut chain = vec![start];
            let mut at = start;
            let mut seg = first;
            loop {
                used[seg] = true;
                let (e1, e2) = segs[seg];
                let next = if e1 == at { e2 } else { e1 };
                chain.push(next);
                let unused = adj.get(&next).and_then(|s| s.iter().copied().find(|&k| !used[k]));
                match unused {
                    Some(k) => {
                        at = next;
                        seg = k;
                    }
                    None => break,
                }
            }
            chain
        };
        for (edge, list) in &adj {
            if let [only] = list.as_slice() {
                if !used[*only] {
                    chains.push(walk(*edge, *only, &mut used));
                }
            }
        }
        for i in 0..segs.len() {
            if !used[i] {
                chains.push(walk(segs[i].0, i, &mut used));
            }
        }
        chains.into_iter().map(|chain| chain.into_iter().map(|e| self.crossing(e)).collect()).collect()
    }

    /// Runs of equal sign class along each row: `(iy, ix_start, ix_end_exclusive, positive)`.
    /// Non-finite values end a run and are not reported.
    pub(crate) fn sign_runs(&self) -> Vec<(usize, usize, usize, bool)> {
        let mut runs = Vec::new();
        for iy in 0..self.ny {
            let mut start = 0;
            let mut class: Option<bool> = None;
            for ix in 0..=self.nx {
                let here = if ix < self.nx {
                    let v = self.v(ix, iy);
                    v.is_finite().then(|| inside(v))
                } else {
                    None
                };
                if ix == self.nx || here != class {
                    if let Some(pos) = class {
                        runs.push((iy, start, ix, pos));
                    }
                    start = ix;
                    class = here;
                }
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: Rect = Rect { x0: 0.0, x1: 1.0, y0: 0.0, y1: 1.0 };

    #[test]
    fn finite_runs_split_at_nan() {
        let pts = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0), (f64::INFINITY, 0.0)];
        assert_eq!(finite_runs(&pts), vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }

    #[test]
    fn polyline_clipped_at_top_splits_in_two() {
        // Up through the top edge and back down: two visible pieces.
        let pts = [(0.0, 0.5), (0.5, 1.5), (1.0, 0.5)];
        let pieces = clip_polyline(&pts, &UNIT);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], vec![(0.0, 0.5), (0.25, 1.0)]);
        assert_eq!(pieces[1], vec![(0.75, 1.0), (1.0, 0.5)]);
    }

    #[test]
    fn polyline_inside_is_one_piece_and_outside_vanishes() {
        let pts = [(0.1, 0.1), (0.2, 0.9), (0.9, 0.2)];
        assert_eq!(clip_polyline(&pts, &UNIT), vec![pts.to_vec()]);
        assert!(clip_polyline(&[(2.0, 2.0), (3.0, 3.0)], &UNIT).is_empty());
    }

    #[test]
    fn polygon_clip_of_larger_square_is_the_rect() {
        let sq = [(-1.0, -1.0), (2.0, -1.0), (2.0, 2.0), (-1.0, 2.0)];
        let out = clip_polygon(&sq, &UNIT);
        assert_eq!(out.len(), 4);
        for p in &out {
            assert!(UNIT.contains(*p));
            assert!((p.0 == 0.0 || p.0 == 1.0) && (p.1 == 0.0 || p.1 == 1.0));
        }
        assert!(clip_polygon(&[(3.0, 3.0), (4.0, 3.0), (4.0, 4.0)], &UNIT).is_empty());
    }

    fn grid_of(f: impl Fn(f64, f64) -> f64, n: usize) -> (Vec<Vec<f64>>, Rect) {
        let r = Rect { x0: -1.0, x1: 1.0, y0: -1.0, y1: 1.0 };
        let at = |i: usize| -1.0 + 2.0 * i as f64 / (n - 1) as f64;
        let values = (0..n).map(|iy| (0..n).map(|ix| f(at(ix), at(iy))).collect()).collect();
        (values, r)
    }

    #[test]
    fn circle_contour_is_one_closed_loop_near_radius() {
        let (values, rect) = grid_of(|x, y| 0.25 - x * x - y * y, 41);
        let g = Grid { values: &values, nx: 41, ny: 41, rect };
        let lines = g.zero_contour();
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert!(line.len() > 20);
        assert_eq!(line.first(), line.last(), "loop closes");
        for p in line {
            let r = (p.0 * p.0 + p.1 * p.1).sqrt();
            assert!((r - 0.5).abs() < 0.01, "radius {r}");
        }
    }

    #[test]
    fn line_contour_is_open_and_exact_for_linear_f() {
        // f = x − 0.3: exact linear interpolation puts every crossing at x = 0.3.
        let (values, rect) = grid_of(|x, _| x - 0.3, 11);
        let g = Grid { values: &values, nx: 11, ny: 11, rect };
        let lines = g.zero_contour();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].len(), 11);
        assert_ne!(lines[0].first(), lines[0].last());
        for p in &lines[0] {
            assert!((p.0 - 0.3).abs() < 1e-12);
        }
    }

    #[test]
    fn saddle_and_nan_cells_do_not_break() {
        let values = vec![vec![1.0, -1.0], vec![-1.0, 1.0]];
        let g = Grid { values: &values, nx: 2, ny: 2, rect: UNIT };
        // Mean 0 ≥ 0 = same class as corner a: the cut-off corners are b and d.
        assert_eq!(g.zero_contour().len(), 2);
        let values = vec![vec![1.0, f64::NAN], vec![-1.0, 1.0]];
        let g = Grid { values: &values, ..g };
        assert!(g.zero_contour().is_empty());
    }

    #[test]
    fn sign_runs_merge_and_skip_nan() {
        let values = vec![vec![1.0, 2.0, -1.0, f64::NAN, 0.0], vec![-1.0; 5]];
        let g = Grid { values: &values, nx: 5, ny: 2, rect: UNIT };
        assert_eq!(g.sign_runs(), vec![(0, 0, 2, true), (0, 2, 3, false), (0, 4, 5, true), (1, 0, 5, false)]);
        assert_eq!(g.x_boundary(0), 0.0);
        assert_eq!(g.x_boundary(5), 1.0);
        assert!((g.x_boundary(1) - 0.125).abs() < 1e-15);
    }
}
