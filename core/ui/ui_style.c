/* ui_style: the view's static files, compiled in (no file to install, no
 * outside font: it must render on an offline network): the stylesheet and
 * the icon (without one, browsers ask for /favicon.ico, a 404 in their
 * console). Narrow screens get wrapping, not a horizontal scroll: long
 * digests and CIDs break anywhere. */
#include "core/ui/ui_internal.h"

const char ui_stylesheet[] =
    ":root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--mut:#59636e;--line:#d1d9e0;--acc:#0b5fcc}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mut:#9198a1;--line:#3d444d;--acc:#4493f8}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}\n"
    "nav{padding:.6em 1em;border-bottom:1px solid var(--line)}\n"
    "nav a{margin-right:1em;font-weight:600}\n"
    "main{padding:0 1em 1em;max-width:80em}\n"
    "footer{padding:1em;color:var(--mut);font-size:.85em}\n"
    "h1{font-size:1.4em;overflow-wrap:anywhere}\n"
    "h2{font-size:1.15em;margin-top:1.5em}\n"
    "a{color:var(--acc)}\n"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}\n"
    "th,td{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid var(--line);"
    "overflow-wrap:anywhere;word-break:break-word}\n"
    "th{color:var(--mut);font-weight:600}\n"
    "code,.cid,.digest{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:anywhere;word-break:break-all}\n"
    "code.pull{display:inline-block;padding:.1em .3em;border:1px solid var(--line);border-radius:3px;user-select:all}\n"
    "dl{display:grid;grid-template-columns:minmax(6em,max-content) 1fr;gap:.2em 1em}\n"
    "dt{color:var(--mut)}dd{margin:0;overflow-wrap:anywhere;word-break:break-word}\n"
    "form{margin:.5em 0}input{font:inherit;max-width:100%}\n"
    ".none{color:var(--mut)}.error{color:#c62828}\n"
    "@media (max-width:40em){table,thead,tbody,tr,th,td{display:block}thead{display:none}"
    "td{border:0;padding:.1em 0}tr{border-bottom:1px solid var(--line);padding:.4em 0}"
    "td[data-label]::before{content:attr(data-label) \": \";color:var(--mut)}}\n";

/* a cube, for the registry's content */
const char ui_icon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
    "<path d=\"M8 1 15 4.5v7L8 15 1 11.5v-7z\" fill=\"#0b5fcc\"/>"
    "<path d=\"M8 8 15 4.5M8 8 1 4.5M8 8v7\" stroke=\"#fff\" fill=\"none\"/></svg>\n";
