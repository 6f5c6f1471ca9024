//! What the chart is drawn on: plotters' bitmap backend, with careprompt's own lettering.
//!
//! plotters' text drawing puts each letter at a whole pixel and leaves out the space the font
//! keeps before it (its left side bearing), so letters sit unevenly ("who le self", "Co
//! mpassion"). Here every line of text is laid out as the font says: the pen moves by each
//! letter's advance and each pair's kerning, in fractions of a pixel, and each letter is drawn
//! from its outline where the font puts it.

use ab_glyph::{point, Font, FontRef, Glyph, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// The one font careprompt draws with, built into the binary (licence in assets/fonts).
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The built-in font, or `None` should its file not parse.
pub fn font() -> Option<FontRef<'static>> {
    FontRef::try_from_slice(DEJAVU_SANS).ok()
}

/// A line of text laid out at a size: each letter where the font puts it, from the line's
/// top-left corner.
pub struct Line {
    pub glyphs: Vec<Glyph>,
    /// From the line's left edge to where the pen ends.
    pub width: f32,
    /// From the top of the tallest letters the font has to the bottom of the deepest.
    pub height: f32,
}

/// `text` in `font` at `size` (plotters' font size: the font's height in pixels, from its
/// ascent to its descent), one letter after another with advances and kerning.
pub fn lay_out(font: &FontRef<'_>, size: f32, text: &str) -> Line {
    let scaled = font.as_scaled(PxScale::from(size));
    let ascent = scaled.ascent();
    let mut pen = 0.0;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            pen += scaled.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(scaled.scale(), point(pen, ascent)));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    Line {
        glyphs,
        width: pen,
        height: scaled.height(),
    }
}

/// plotters' bitmap backend, drawing text with [`lay_out`].
pub struct Canvas<'a> {
    bitmap: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Canvas<'a> {
    /// A canvas over an RGB buffer of `size` pixels.
    pub fn new(buffer: &'a mut [u8], size: (u32, u32), font: FontRef<'static>) -> Canvas<'a> {
        Canvas {
            bitmap: BitMapBackend::with_buffer(buffer, size),
            font,
        }
    }
}

type DrawResult<E> = Result<(), DrawingErrorKind<E>>;

impl<'a> DrawingBackend for Canvas<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.bitmap.get_size()
    }

    fn ensure_prepared(&mut self) -> DrawResult<Self::ErrorType> {
        self.bitmap.ensure_prepared()
    }

    fn present(&mut self) -> DrawResult<Self::ErrorType> {
        self.bitmap.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (width, height): (u32, u32),
        src: &[u8],
    ) -> DrawResult<Self::ErrorType> {
        self.bitmap.blit_bitmap(pos, (width, height), src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let line = lay_out(&self.font, style.size() as f32, text);
        Ok((line.width.ceil() as u32, line.height.ceil() as u32))
    }

    /// Draws `text` with its anchor at `pos`, turned as the style says (the y axis's title is).
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> DrawResult<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let line = lay_out(&self.font, style.size() as f32, text);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -line.width / 2.0,
            HPos::Right => -line.width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -line.height / 2.0,
            VPos::Bottom => -line.height,
        };
        let turn = style.transform();
        let (width, height) = self.get_size();
        // Gathered first, so that a pixel that cannot be drawn is an error returned here: the
        // outline's callback cannot return one.
        let mut inked = Vec::new();
        for mut glyph in line.glyphs {
            glyph.position = point(glyph.position.x + dx, glyph.position.y + dy);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let corner = outline.px_bounds().min;
            outline.draw(|x, y, coverage| {
                let (x, y) = turn.transform(corner.x as i32 + x as i32, corner.y as i32 + y as i32);
                inked.push((pos.0 + x, pos.1 + y, coverage.clamp(0.0, 1.0)));
            });
        }
        for (x, y, coverage) in inked {
            let inside = x >= 0 && y >= 0 && x < width as i32 && y < height as i32;
            if inside && coverage > 0.0 {
                let ink = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                self.bitmap.draw_pixel((x, y), ink)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::text_anchor::Pos;

    const WIDTH: u32 = 700;
    const HEIGHT: u32 = 80;
    /// Where each word starts: its line's top-left corner.
    const AT: (i32, i32) = (20, 10);

    /// The ink of `text` drawn in black on white through plotters, as the chart draws, summed
    /// down each column of pixels (0 for none, 1 for one black pixel).
    fn drawn_columns(text: &str, size: f64) -> Vec<f32> {
        let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let area = Canvas::new(&mut pixels, (WIDTH, HEIGHT), font().expect("the font"))
                .into_drawing_area();
            let style = ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Top));
            area.draw_text(text, &style, AT).expect("drawn");
            area.present().expect("presented");
        }
        (0..WIDTH as usize)
            .map(|x| {
                (0..HEIGHT as usize)
                    .map(|y| 1.0 - f32::from(pixels[(y * WIDTH as usize + x) * 3]) / 255.0)
                    .sum()
            })
            .collect()
    }

    /// Each letter of `text` with ink, as the font places it from the pen: the columns its ink
    /// spans and the centre of its ink, worked out from the font's advances and kerning alone.
    fn expected_letters(text: &str, size: f32) -> Vec<(f32, f32, f32)> {
        let font = font().expect("the font");
        let scaled = font.as_scaled(PxScale::from(size));
        let mut pen = AT.0 as f32;
        let mut previous = None;
        let mut letters = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            pen += previous.map_or(0.0, |previous| scaled.kern(previous, id));
            let glyph = id.with_scale_and_position(size, point(pen, AT.1 as f32 + scaled.ascent()));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (mut ink, mut moment) = (0.0, 0.0);
                outline.draw(|x, _, coverage| {
                    ink += coverage;
                    moment += coverage * (bounds.min.x + x as f32 + 0.5);
                });
                letters.push((bounds.min.x, bounds.max.x, moment / ink));
            }
            pen += scaled.h_advance(id);
            previous = Some(id);
        }
        letters
    }

    /// Where the centre of each letter's ink is in what was drawn, each letter taking the
    /// columns up to halfway to its neighbours'.
    fn drawn_centres(columns: &[f32], letters: &[(f32, f32, f32)]) -> Vec<f32> {
        let cuts: Vec<f32> = letters
            .windows(2)
            .map(|pair| (pair[0].1 + pair[1].0) / 2.0)
            .collect();
        (0..letters.len())
            .map(|index| {
                let from = if index == 0 { 0.0 } else { cuts[index - 1] };
                let to = cuts.get(index).copied().unwrap_or(columns.len() as f32);
                let (mut ink, mut moment) = (0.0, 0.0);
                for (x, &column) in columns.iter().enumerate() {
                    let centre = x as f32 + 0.5;
                    if centre >= from && centre < to {
                        ink += column;
                        moment += column * centre;
                    }
                }
                moment / ink
            })
            .collect()
    }

    #[test]
    fn letters_sit_where_the_fonts_advances_and_kerning_put_them() {
        let font = font().expect("the font");
        let scaled = font.as_scaled(PxScale::from(14.0));
        let kerning = |pair: &str| {
            let mut chars = pair.chars().map(|c| scaled.glyph_id(c));
            scaled.kern(chars.next().expect("first"), chars.next().expect("second"))
        };
        assert!(
            kerning("We") < -0.5 && kerning("Pe") < -0.3,
            "the words below have pairs the font kerns"
        );
        // Words the chart draws, whose letters plotters' own text drawing spaced unevenly by
        // a pixel or more at the chart's sizes (up to four at 40): here they are within a
        // tenth of a pixel of where the font puts them.
        for size in [14.0, 40.0] {
            for word in [
                "whole self",
                "Compassion",
                "Improvement and change",
                "once",
                "Week",
                "People",
            ] {
                let letters = expected_letters(word, size);
                let drawn = drawn_centres(&drawn_columns(word, f64::from(size)), &letters);
                for (index, (letter, drawn)) in letters.iter().zip(&drawn).enumerate() {
                    assert!(
                        (letter.2 - drawn).abs() < 0.25,
                        "letter {index} of {word:?} at size {size}: drawn at {drawn}, the font puts it at {}",
                        letter.2
                    );
                }
                for (index, (font, drawn)) in letters.windows(2).zip(drawn.windows(2)).enumerate() {
                    let (gap, drawn_gap) = (font[1].2 - font[0].2, drawn[1] - drawn[0]);
                    assert!(
                        (gap - drawn_gap).abs() < 0.25,
                        "letters {index} and {} of {word:?} at size {size} are {drawn_gap} apart; the font says {gap}",
                        index + 1
                    );
                }
            }
        }
    }
}
