//! Papers per announcement day as SVG, drawn with plotters: a topic's 90-day chart and the
//! home page's small trend. Pure: counts in, SVG text out.

use chrono::NaiveDate;
use plotters::prelude::*;

/// Mid-tones that read on a light and a dark page alike (the SVG cannot see the page's scheme).
const LINE: RGBColor = RGBColor(0x3b, 0x82, 0xf6);
const TEXT: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// How many papers each day from `from` to `to` (inclusive) had (days not in `counts` had
/// none), and the most of any day (at least 1, the top of the scale).
fn per_day(counts: &[(NaiveDate, usize)], from: NaiveDate, to: NaiveDate) -> (Vec<usize>, usize) {
    let days = (to - from).num_days().max(0) as usize + 1;
    let mut out = vec![0; days];
    for &(d, n) in counts {
        if d >= from && d <= to {
            out[(d - from).num_days() as usize] += n;
        }
    }
    let max = out.iter().copied().max().unwrap_or(0).max(1);
    (out, max)
}

/// The chart of a topic's papers per announcement day over `from..=to`, with date and count
/// axes; `title` is the SVG's accessible name.
pub fn daily_chart(
    counts: &[(NaiveDate, usize)],
    from: NaiveDate,
    to: NaiveDate,
    title: &str,
) -> String {
    let (values, max) = per_day(counts, from, to);
    let svg = drawn((720, 240), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(0..values.len().saturating_sub(1).max(1), 0..max + max / 10)?;
        let label = |x: &usize| {
            (from + chrono::Duration::days(*x as i64))
                .format("%b %-d")
                .to_string()
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TEXT.mix(0.15))
            .bold_line_style(TEXT.mix(0.3))
            .axis_style(TEXT)
            .label_style(("sans-serif", 12).into_font().color(&TEXT))
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&label)
            .draw()?;
        chart.draw_series(
            AreaSeries::new(values.iter().copied().enumerate(), 0, LINE.mix(0.2))
                .border_style(LINE.stroke_width(2)),
        )?;
        Ok(())
    });
    titled(svg, title)
}

/// A small trend of papers per day (no axes) for the home page.
pub fn sparkline(
    counts: &[(NaiveDate, usize)],
    from: NaiveDate,
    to: NaiveDate,
    title: &str,
) -> String {
    let (values, max) = per_day(counts, from, to);
    let svg = drawn((160, 32), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(2)
            .build_cartesian_2d(0..values.len().saturating_sub(1).max(1), 0..max)?;
        chart.draw_series(
            AreaSeries::new(values.iter().copied().enumerate(), 0, LINE.mix(0.2))
                .border_style(LINE.stroke_width(1)),
        )?;
        Ok(())
    });
    titled(svg, title)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// An SVG of `size` drawn by `draw`; a drawing error leaves what was drawn and is logged (a
/// chart is never worth failing a page for).
fn drawn(
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), Box<dyn std::error::Error>>,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        if let Err(e) = draw(&root).and_then(|()| Ok(root.present()?)) {
            tracing::warn!(error = %e, "chart not drawn");
        }
    }
    svg
}

/// Gives the SVG an accessible name (screen readers; a tooltip in browsers).
fn titled(svg: String, title: &str) -> String {
    let Some(end) = svg.find('>') else {
        return svg;
    };
    let mut out = String::with_capacity(svg.len() + title.len() + 40);
    out.push_str(&svg[..end]);
    out.push_str(" role=\"img\"><title>");
    out.push_str(&quick_xml::escape::escape(title));
    out.push_str("</title>");
    out.push_str(&svg[end + 1..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 11, n).unwrap()
    }

    #[test]
    fn days_without_papers_count_zero_and_days_outside_are_left_out() {
        let counts = [(d(1), 5), (d(3), 2), (d(30), 9)];
        assert_eq!(per_day(&counts, d(1), d(4)), (vec![5, 0, 2, 0], 5));
        assert_eq!(per_day(&[], d(1), d(2)), (vec![0, 0], 1));
    }

    #[test]
    fn the_chart_is_svg_with_its_title_escaped_and_date_labels() {
        let svg = daily_chart(&[(d(1), 5), (d(20), 12)], d(1), d(29), "NeRF <&> papers");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("<title>NeRF &lt;&amp;&gt; papers</title>"));
        assert!(svg.contains("Nov 1"), "x labels are dates");
        assert!(svg.contains("<path") || svg.contains("<polyline") || svg.contains("<polygon"));
        let spark = sparkline(&[(d(2), 1)], d(1), d(29), "trend");
        assert!(spark.starts_with("<svg") && !spark.contains("Nov"));
    }
}
