/* The theme's controls for keyboard and screen-reader readers (book/_ext/every_reader.py
   says why). Runs once the page and the theme's own scripts have loaded. */
"use strict";

(() => {
  const MODE_NAMES = { light: "light", dark: "dark", auto: "the system's setting" };

  /* The colour-mode button was named "Color mode" whatever the mode: a screen reader never
     heard which mode was on, nor that pressing changed it. Its name (and its tooltip) says
     the mode, and follows every change of it. */
  const nameColourModeButtons = () => {
    const mode = document.documentElement.dataset.mode || "auto";
    const name = `Color mode: ${MODE_NAMES[mode] || mode} (press to change)`;
    document.querySelectorAll(".theme-switch-button").forEach((button) => {
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
     drawers. Each gets a name, and when it closes, keyboard focus returns to the control
     that opened it (the theme blurs that control on click, so focus fell to the page's
     top and a keyboard reader had to start over). */
  const DIALOGS = {
    "pst-search-dialog": "Search this book",
    "pst-primary-sidebar-modal": "Book navigation",
    "pst-secondary-sidebar-modal": "Contents of this page",
  };
  let lastControl = null;
  const noteControl = (event) => {
    const control = event.target.closest && event.target.closest("button, a, [tabindex]");
    lastControl = control || document.activeElement;
  };
  const returnFocusOnClose = () => {
    // Capture on window: before the theme's own handlers blur the control.
    window.addEventListener("click", noteControl, true);
    window.addEventListener("keydown", noteControl, true);
    Object.entries(DIALOGS).forEach(([id, name]) => {
      const dialog = document.getElementById(id);
      if (!dialog) {
        return;
      }
      dialog.setAttribute("aria-label", name);
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

  /* The primary sidebar (the book's title, search and chapter list) sat in no landmark: a
     screen reader's list of regions skipped it. It is the book's navigation. */
  const markSidebarLandmark = () => {
    const sidebar = document.getElementById("pst-primary-sidebar");
    if (sidebar) {
      sidebar.setAttribute("role", "navigation");
      sidebar.setAttribute("aria-label", "Book");
    }
  };

  /* The header's icon buttons (the two sidebar toggles, full screen, the repository's
     buttons) and the items of its Launch and Download menus were named by their tooltip
     alone ("Toggle primary sidebar", "Fullscreen mode"), or by a bare ".ipynb": theme words
     that say what the control is, not what pressing it does. Each is named for what it
     does, its visible text kept in the name (WCAG 2.5.3), so a voice command saying it still
     finds it. A control not listed here (a launch service, say) keeps its tooltip's words,
     which already name its action ("Launch on Binder"), as its name. */
  const HEADER_BUTTON_NAMES = {
    "primary-toggle": "Show or hide the book's chapters",
    "secondary-toggle": "Show or hide the contents of this page",
    "btn-fullscreen-button": "Show the page full screen, or leave full screen",
    "btn-download-notebook-button": "Download this page as a notebook",
    "btn-download-source-button": "Download this page's source",
    "btn-download-pdf-button": "Print this page or save it as PDF",
    "btn-source-repository-button": "Open the course's repository",
    "btn-source-file-button": "Show this page's source in the repository",
    "btn-source-edit-button": "Suggest an edit to this page",
    "btn-source-issues-button": "Open an issue about this page",
  };
  const nameHeaderButtons = () => {
    const controls = document.querySelectorAll(
      ".bd-header-article button, .bd-header-article a, .bd-header button.sidebar-toggle"
    );
    controls.forEach((control) => {
      const known = Object.keys(HEADER_BUTTON_NAMES).find((name) =>
        control.classList.contains(name)
      );
      // Bootstrap moves the tooltip from title to data-bs-original-title once it starts.
      const tooltip =
        control.getAttribute("title") ||
        control.getAttribute("data-bs-original-title") ||
        control.getAttribute("data-bs-title");
      const action = known ? HEADER_BUTTON_NAMES[known] : tooltip;
      if (!action || (!known && control.hasAttribute("aria-label"))) {
        return;
      }
      const visible = control.innerText.trim();
      const shown = visible && !action.includes(visible) ? ` (${visible})` : "";
      control.setAttribute("aria-label", action + shown);
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
    nameHeaderButtons();
    nameColourModeButtons();
    new MutationObserver(nameColourModeButtons).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ["data-mode"],
    });
    keepKeyboardFocus();
    returnFocusOnClose();
    markSidebarLandmark();
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
