//! The figure reader on real pages of arXiv's HTML edition (every way they write an image's
//! address), on pages without a figure, and on pages read in part.

use super::*;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/arxiv-html/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn page(id: &str) -> Url {
    Url::parse(&format!("https://arxiv.org/html/{id}")).unwrap()
}

#[test]
fn ar5iv_absolute_paths() {
    let f = first_figure(&fixture("1706.03762.html"), &page("1706.03762v7")).unwrap();
    assert_eq!(
        f.url,
        "https://arxiv.org/html/1706.03762/assets/Figures/ModalNet-21.png"
    );
    assert_eq!((f.width, f.height), (Some(912), Some(1344)));
    assert_eq!(f.caption, "The Transformer - model architecture.");
}

/// The page is `arxiv.org/html/2507.00150v1` (no trailing slash), so `2507.00150v1/x.png`
/// resolves, as in a browser, to `arxiv.org/html/2507.00150v1/x.png`: where arXiv serves it.
#[test]
fn relative_to_the_page_without_a_base() {
    let f = first_figure(&fixture("2507.00150v1.html"), &page("2507.00150v1")).unwrap();
    assert_eq!(
        f.url,
        "https://arxiv.org/html/2507.00150v1/plot1_distributions_600.png"
    );
    assert_eq!((f.width, f.height), (Some(476), Some(357)));
    // The tag is gone, the math is read, `km s<sup>-1</sup>` reads as a unit.
    assert!(
        f.caption
            .starts_with("v_T distribution from 1,000 realizations"),
        "{}",
        f.caption
    );
    assert!(f.caption.contains("(∼ 500 km s⁻¹;"), "{}", f.caption);
    assert!(
        !f.caption.contains('$') && !f.caption.contains('\\'),
        "{}",
        f.caption
    );
}

#[test]
fn svg_objects_relative_to_the_page() {
    let f = first_figure(&fixture("2503.20783v2.html"), &page("2503.20783v2")).unwrap();
    assert_eq!(f.url, "https://arxiv.org/html/2503.20783v2/fig1.svg");
    assert_eq!((f.width, f.height), (Some(476), Some(151)));
    assert!(!f.caption.is_empty());
}

#[test]
fn under_a_base_element() {
    let f = first_figure(&fixture("2507.00150v1-base.html"), &page("2507.00150v1")).unwrap();
    assert_eq!(f.url, "https://arxiv.org/html/2507.00150v1/x1.png");
    let f = first_figure(
        &fixture("2507.00150v1-extracted.html"),
        &page("2507.00150v1"),
    )
    .unwrap();
    assert_eq!(
        f.url,
        "https://arxiv.org/html/2507.00150v1/extracted/6123456/img/plot1_distributions_600.png"
    );
}

#[test]
fn figures_without_an_image_and_tables_are_passed_over() {
    assert_eq!(
        first_figure(
            &fixture("2503.20783v2-no-images.html"),
            &page("2503.20783v2")
        ),
        None
    );
    let f = first_figure(
        &fixture("2503.20783v2-first-without-image.html"),
        &page("2503.20783v2"),
    )
    .unwrap();
    assert_eq!(
        f.url,
        "https://arxiv.org/html/2503.20783v2/math_performance.svg"
    );
}

#[test]
fn attributes_in_any_order_panels_belong_to_their_figure_and_tables_do_not_count() {
    let html = r#"<html><head><base href="https://arxiv.org/html/2401.00001v2/"></head><body>
        <figure class="ltx_table" id="T1"><img src="table.png"><figcaption>Table 1: no</figcaption></figure>
        <figure id="F1" class="ltx_figure ltx_centering"><svg><text>drawn</text></svg>
          <figcaption><span class="ltx_tag">Figure 1: </span>A drawing</figcaption></figure>
        <figure data-x="1" class="ltx_centering ltx_figure" id="F2">
          <figure class="ltx_figure ltx_figure_panel"><img height="80" src="panel-a.png" width="120">
            <figcaption>(a) left</figcaption></figure>
          <figure class="ltx_figure ltx_figure_panel"><img src="panel-b.png"></figure>
          <figcaption><span class="ltx_tag ltx_tag_figure">Figure 2: </span>Panels of
            <math alttext="\mathcal{N}(0,1)"><mi>N</mi></math> &amp; more.</figcaption>
        </figure></body></html>"#;
    let f = first_figure(html, &page("2401.00001v2")).unwrap();
    assert_eq!(f.url, "https://arxiv.org/html/2401.00001v2/panel-a.png");
    assert_eq!((f.width, f.height), (Some(120), Some(80)));
    assert_eq!(f.caption, "Panels of 𝒩(0,1) & more.");
}

#[test]
fn no_figure_in_a_page_that_is_not_latexml() {
    assert_eq!(
        first_figure("<html><body><p>Not found</p></body></html>", &page("x")),
        None
    );
    assert_eq!(first_figure("", &page("x")), None);
    assert_eq!(
        first_figure(
            r#"<figure class="ltx_figure"><img src="javascript:alert(1)"></figure>"#,
            &page("x")
        ),
        None
    );
}

#[test]
fn a_prefix_decides_once_the_first_figure_is_whole() {
    let html = fixture("2507.00150v1.html");
    let url = page("2507.00150v1");
    let whole = first_figure(&html, &url).unwrap();
    let start = html.find("<figure id=\"S2.F1\"").unwrap();
    let end = html[start..].find("</figure>").unwrap() + start + "</figure>".len();
    // Cut inside the figure's caption: read on.
    assert_eq!(read_prefix(&html[..start + 900], &url, false), None);
    // Cut before any figure: read on; at the end of the page: no figure.
    assert_eq!(read_prefix(&html[..start], &url, false), None);
    assert_eq!(read_prefix(&html[..start], &url, true), Some(None));
    // Past its end tag: decided, and the same as from the whole page.
    assert_eq!(
        read_prefix(&html[..end + 20], &url, false),
        Some(Some(whole))
    );
}
