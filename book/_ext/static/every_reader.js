/* The theme's controls for keyboard and screen-reader readers (book/_ext/every_reader.py
   says why): what only the browser knows, the colour mode, focus and layout. Whatever does
   not change once the page is built, the header's controls' names, the sidebar's landmark
   and the dialogs' names, the build writes into the HTML, for a reader without JavaScript
   too. Runs once the page and the theme's own scripts have loaded. */
"use strict";

(() => {
  /* The colour-mode button's name says the mode, and follows every change of it: a stored
     choice, known only here, or a press. The build names the button for the mode a first
     visit starts in and writes its name for each mode beside it (data-name-light, ...);
     its tooltip says the same. */
  const nameColourModeButtons = () => {
    const mode = document.documentElement.dataset.mode || "auto";
    document.querySelectorAll(".theme-switch-button").forEach((button) => {
      const name = button.getAttribute(`data-name-${mode}`);
      if (!name) {
        return;
      }
      button.setAttribute("aria-label", name);
      button.setAttribute("data-bs-title", name);
      button.setAttribute("data-bs-original-title", name);
    });
  };

  /* The theme blurs its header buttons on click, to dismiss their tooltips. A reader who
     pressed one with the keyboard (a click of detail 0) lost their place, and a screen
     reader never heard the colour mode's new name: focus goes back to the button. */
  const keepKeyboardFocus = () => {
    document.querySelectorAll(".theme-switch-button").forEach((button) => {
      button.addEventListener("click", (event) => {
        if (event.detail === 0) {
          button.focus();
        }
      });
    });
  };

  /* Dialogs the theme opens: the search box and, on a narrow screen, the two sidebars as
     drawers (the build names them). When one closes, keyboard focus returns to the control
     that opened it, which only the browser knows (the theme blurs that control on click,
     so focus fell to the page's top and a keyboard reader had to start over). */
  let lastControl = null;
  const noteControl = (event) => {
    const control = event.target.closest && event.target.closest("button, a, [tabindex]");
    lastControl = control || document.activeElement;
  };
  const returnFocusOnClose = () => {
    // Capture on window: before the theme's own handlers blur the control.
    window.addEventListener("click", noteControl, true);
    window.addEventListener("keydown", noteControl, true);
    document.querySelectorAll("dialog").forEach((dialog) => {
      let opener = null;
      new MutationObserver(() => {
        if (dialog.open) {
          opener = lastControl && !dialog.contains(lastControl) ? lastControl : null;
        }
      }).observe(dialog, { attributes: true, attributeFilter: ["open"] });
      dialog.addEventListener("close", () => {
        // After the theme's own close handlers, which move the sidebar back first.
        setTimeout(() => {
          // checkVisibility is recent (Safari 17.4): without it, a connected opener will do.
          const visible = !opener || !opener.checkVisibility || opener.checkVisibility();
          if (opener && opener.isConnected && visible) {
            opener.focus();
          }
          opener = null;
        });
      });
    });
  };

  /* At phone width a figure scrolls sideways in its own box (phone_width.css): a keyboard
     reader can scroll it only if it takes focus, which it does while it scrolls. */
  const focusScrollingFigures = () => {
    document.querySelectorAll("div.cell_output figure").forEach((figure) => {
      if (figure.scrollWidth > figure.clientWidth + 1) {
        figure.tabIndex = 0;
      } else {
        figure.removeAttribute("tabindex");
      }
    });
  };

  const start = () => {
    nameColourModeButtons();
    new MutationObserver(nameColourModeButtons).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-mode"],
    });
    keepKeyboardFocus();
    returnFocusOnClose();
    focusScrollingFigures();
    window.addEventListener("resize", focusScrollingFigures);
    // Figures are lazy images: their width is known once each has loaded.
    document.querySelectorAll("div.cell_output figure img").forEach((image) => {
      image.addEventListener("load", focusScrollingFigures);
    });
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
