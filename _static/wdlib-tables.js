// Mark table cells that hold a number (with an optional sign, exponent, ±,
// percent sign or unit) as .wd-num, so that _static/wdlib.css right-aligns them.
// Markdown tables carry no per-cell type; this is the one place that decides.
(function () {
  const NUMBER = /^[−+\-]?(\d[\d,\u2009\u202f ]*(\.\d+)?|\.\d+)([eE][−+\-]?\d+)?(\s*(±|\u00b1)\s*[\d.]+([eE][−+\-]?\d+)?)?\s*(%|×|x|s|min|h|ms)?$/;
  function mark() {
    document.querySelectorAll(".bd-article table td, .bd-article table tbody th").forEach((cell) => {
      const text = cell.textContent.trim();
      if (text && NUMBER.test(text)) cell.classList.add("wd-num");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
})();
