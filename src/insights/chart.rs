//! The `/insights` chart: people who saved a card, per week and theme, as a PNG. Drawn in memory
//! with plotters on a [`Canvas`], in a font built into the binary (DejaVu Sans, licence in
//! assets/fonts), so it needs nothing installed on the server.
//!
//! Each theme is a line with its own colour, marker shape and dash pattern, so that themes are
//! told apart without colour. A hidden figure is drawn as a hollow marker in a grey band at the
//! bottom, never at a height, and the line breaks around it.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::domain::insights::{suppression_rule, week_label, Figure, Figures};
use crate::insights::canvas::{self, Canvas};

pub const CHART_WIDTH: u32 = 1200;
pub const CHART_HEIGHT: u32 = 675;

/// The family plotters' text styles name; the [`Canvas`] draws every text in its one font.
const FONT: &str = "sans-serif";

/// Okabe and Ito's palette for colour-blind readers (Okabe & Ito, "Color Universal Design",
/// jfly.uni-koeln.de/color, 2002), less its yellow, which is too pale on white.
const COLOURS: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
];

/// Half the width of a marker in the legend, and on charts of up to 26 weeks, in pixels.
const LEGEND_MARKER: i32 = 7;

const BAND: RGBColor = RGBColor(232, 232, 232);
const GREY: RGBColor = RGBColor(90, 90, 90);

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the built-in font could not be loaded")]
    Font,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("writing the chart as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

fn draw_error(err: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(err.to_string())
}

/// The chart of `figures` as a PNG of [`CHART_WIDTH`] by [`CHART_HEIGHT`] pixels.
pub fn savers_chart(figures: &Figures) -> Result<Vec<u8>, ChartError> {
    let font = canvas::font().ok_or(ChartError::Font)?;
    let mut pixels = vec![0u8; (CHART_WIDTH * CHART_HEIGHT * 3) as usize];
    {
        let root = Canvas::new(&mut pixels, (CHART_WIDTH, CHART_HEIGHT), font).into_drawing_area();
        draw(&root, figures)?;
        root.present().map_err(draw_error)?;
    }
    encode(&pixels)
}

fn encode(pixels: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, CHART_WIDTH, CHART_HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Default);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(png_bytes)
}

/// The marker of theme `index` centred on the pixel `at`, filled when the figure is shown,
/// hollow when hidden.
fn marker<'a, DB: DrawingBackend + 'a>(
    index: usize,
    at: (i32, i32),
    colour: RGBColor,
    filled: bool,
    s: i32,
) -> DynElement<'a, DB, (i32, i32)> {
    let style = if filled {
        colour.filled()
    } else {
        colour.stroke_width(2)
    };
    let (x, y) = at;
    let shift = |points: &[(i32, i32)]| -> Vec<(i32, i32)> {
        points.iter().map(|&(dx, dy)| (x + dx, y + dy)).collect()
    };
    let polygon = |points: Vec<(i32, i32)>| -> DynElement<'a, DB, (i32, i32)> {
        if filled {
            Polygon::new(points, style).into_dyn()
        } else {
            let mut closed = points.clone();
            closed.push(points[0]);
            PathElement::new(closed, style).into_dyn()
        }
    };
    match index % 7 {
        0 => Circle::new(at, s, style).into_dyn(),
        1 => Rectangle::new([(x - s, y - s), (x + s, y + s)], style).into_dyn(),
        2 => polygon(shift(&[(0, -s - 1), (s + 1, s), (-s - 1, s)])),
        3 => polygon(shift(&[(0, -s - 2), (s + 2, 0), (0, s + 2), (-s - 2, 0)])),
        4 => polygon(shift(&[(0, s + 1), (s + 1, -s), (-s - 1, -s)])),
        // A cross has no inside, so a hidden one is told apart by the grey band it sits in.
        5 => PathElement::new(
            shift(&[(-s, -s), (s, s), (0, 0), (-s, s), (s, -s)]),
            colour.stroke_width(3),
        )
        .into_dyn(),
        _ => {
            let w = 2;
            polygon(shift(&[
                (-w, -s),
                (w, -s),
                (w, -w),
                (s, -w),
                (s, w),
                (w, w),
                (w, s),
                (-w, s),
                (-w, w),
                (-s, w),
                (-s, -w),
                (-w, -w),
            ]))
        }
    }
}

fn draw(root: &DrawingArea<Canvas<'_>, Shift>, figures: &Figures) -> Result<(), ChartError> {
    root.fill(&WHITE).map_err(draw_error)?;
    let min = f64::from(figures.min_people);
    let weeks = figures.weeks.len();
    let themes = figures.themes.len();
    let shown_max = figures
        .savers
        .cells
        .iter()
        .flatten()
        .filter_map(|figure| figure.count())
        .max()
        .unwrap_or(0) as f64;
    let y_max = (shown_max.max(min) * 1.15).ceil().max(min + 2.0);

    let (upper, caption) = root.split_vertically(CHART_HEIGHT - 62);
    let (plot, legend) = upper.split_horizontally(CHART_WIDTH - 300);
    let first = figures
        .weeks
        .first()
        .copied()
        .map(week_label)
        .unwrap_or_default();
    let last = figures
        .weeks
        .last()
        .copied()
        .map(week_label)
        .unwrap_or_default();
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            format!("People who saved a careprompt card, by theme, {weeks} weeks"),
            (FONT, 26).into_font(),
        )
        .margin_top(12)
        .margin_left(12)
        .margin_right(16)
        .x_label_area_size(62)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..(weeks as f64 - 0.5), 0f64..y_max)
        .map_err(draw_error)?;
    let label_every = weeks.div_ceil(13).max(1);
    let week_text = |x: &f64| {
        let index = x.round();
        if (x - index).abs() > 0.01 || index < 0.0 {
            return String::new();
        }
        let index = index as usize;
        if index % label_every != 0 {
            return String::new();
        }
        figures
            .weeks
            .get(index)
            .map(|&week| week_label(week)[5..].to_string())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(weeks.min(60))
        .x_label_formatter(&week_text)
        .y_labels(8)
        .y_label_formatter(&|y| format!("{}", y.round() as i64))
        .x_desc(format!(
            "Week starting (Monday, month-day, UTC): {first} to {last}"
        ))
        .y_desc("People (each counted once a week per theme)")
        .axis_desc_style((FONT, 17).into_font())
        .label_style((FONT, 14).into_font())
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(draw_error)?;

    // Where hidden figures sit: below the threshold, at no particular height.
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(-0.5, 0.0), (weeks as f64 - 0.5, min)],
            BAND.filled(),
        )))
        .map_err(draw_error)?;
    // Half a year or more of weeks puts the points close together: smaller markers overlap less.
    let size = if weeks > 26 { 5 } else { LEGEND_MARKER };
    for index in 0..themes {
        let colour = COLOURS[index % COLOURS.len()];
        let cells: Vec<Figure> = figures.savers.cells.iter().map(|row| row[index]).collect();
        // A run of shown figures is one line; a hidden figure breaks it.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (week, figure) in cells.iter().enumerate() {
            match figure.count() {
                Some(count) => runs
                    .last_mut()
                    .map(|run| run.push((week as f64, count as f64)))
                    .unwrap_or_default(),
                None => runs.push(Vec::new()),
            }
        }
        let style = colour.stroke_width(3);
        for run in runs.into_iter().filter(|run| run.len() > 1) {
            match index % 3 {
                0 => chart
                    .draw_series(std::iter::once(PathElement::new(run, style)))
                    .map(drop),
                1 => chart
                    .draw_series(std::iter::once(DashedPathElement::new(run, 10, 6, style)))
                    .map(drop),
                _ => chart
                    .draw_series(std::iter::once(DashedPathElement::new(run, 3, 4, style)))
                    .map(drop),
            }
            .map_err(draw_error)?;
        }
        // Hidden markers spread across the band, one height per theme, so they don't cover each
        // other.
        let hidden_at = min * (index as f64 + 1.0) / (themes as f64 + 2.0);
        for (week, figure) in cells.iter().enumerate() {
            let (y, filled) = match figure.count() {
                Some(count) => (count as f64, true),
                None => (hidden_at, false),
            };
            let at = chart.backend_coord(&(week as f64, y));
            root.draw(&marker(index, at, colour, filled, size))
                .map_err(draw_error)?;
        }
    }

    draw_legend(&legend, figures)?;
    let lines = [
        "Weeks start on Monday at 00:00 UTC; the last is still under way. Hollow markers in the grey band are hidden figures, at no particular height.".to_string(),
        suppression_rule(figures.min_people),
    ];
    for (row, line) in lines.iter().enumerate() {
        caption
            .draw_text(
                line,
                &(FONT, 13)
                    .into_font()
                    .color(&GREY)
                    .into_text_style(&caption),
                (14, 10 + row as i32 * 22),
            )
            .map_err(draw_error)?;
    }
    Ok(())
}

fn draw_legend(area: &DrawingArea<Canvas<'_>, Shift>, figures: &Figures) -> Result<(), ChartError> {
    let title = (FONT, 16).into_font().color(&BLACK);
    area.draw_text("Themes", &title.into_text_style(area), (10, 60))
        .map_err(draw_error)?;
    for (index, theme) in figures.themes.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let y = 100 + index as i32 * 44;
        let style = colour.stroke_width(2);
        let sample = [(10, y), (60, y)];
        match index % 3 {
            0 => area.draw(&PathElement::new(sample.to_vec(), style)),
            1 => area.draw(&DashedPathElement::new(sample, 10, 6, style)),
            _ => area.draw(&DashedPathElement::new(sample, 3, 4, style)),
        }
        .map_err(draw_error)?;
        area.draw(&marker(index, (35, y), colour, true, LEGEND_MARKER))
            .map_err(draw_error)?;
        let text = (FONT, 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let parts = wrap(&theme.title, 26);
        let top = y - (parts.len() as i32 - 1) * 8;
        for (line, part) in parts.iter().enumerate() {
            area.draw_text(part, &text, (72, top + line as i32 * 17))
                .map_err(draw_error)?;
        }
    }
    // What the grey band means, under the themes.
    let y = 100 + figures.themes.len() as i32 * 44;
    area.draw(&Rectangle::new([(10, y - 12), (60, y + 12)], BAND.filled()))
        .map_err(draw_error)?;
    area.draw(&marker(0, (35, y), GREY, false, LEGEND_MARKER))
        .map_err(draw_error)?;
    let text = (FONT, 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let band = format!("hidden: fewer than {} or withheld", figures.min_people);
    for (line, part) in wrap(&band, 26).iter().enumerate() {
        area.draw_text(part, &text, (72, y - 8 + line as i32 * 17))
            .map_err(draw_error)?;
    }
    Ok(())
}

/// Words in lines of at most `width` characters (a longer word has a line to itself).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_wrap_at_word_boundaries() {
        assert_eq!(
            wrap("Bringing your whole self to work", 26),
            vec!["Bringing your whole self", "to work"]
        );
        assert_eq!(wrap("Compassion", 26), vec!["Compassion"]);
    }
}
