#!/usr/bin/env bash
# System packages the workflow can use, from the distribution's packages (Debian/Ubuntu):
#   - R and its `survival` package: the independent implementation the Cox tests compare against;
#   - latexmk and TeX Live: to build the PDF of the paper (the HTML version needs nothing);
#   - chromium and chromium-driver: the headless browser that tests the HTML paper's explorers.
# Without root or sudo, or on another system, it says what to install and exits without error:
# the tests that need R are then skipped with that reason, and the paper is built as HTML and LaTeX.
set -u
pkgs=(r-base-core r-cran-survival latexmk texlive-latex-base texlive-latex-recommended
      texlive-fonts-recommended lmodern chromium chromium-driver)
have_all=1
command -v Rscript >/dev/null && Rscript -e 'library(survival)' >/dev/null 2>&1 || have_all=0
command -v latexmk >/dev/null && command -v pdflatex >/dev/null || have_all=0
command -v chromium >/dev/null && command -v chromedriver >/dev/null || have_all=0
if [ "$have_all" = 1 ]; then
  echo "system packages: R (survival), TeX and chromium are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "system packages: no apt-get here; install R with the survival package and latexmk + TeX Live yourself" >&2
  exit 0
fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "system packages: need root or sudo to install: ${pkgs[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "system packages: installed ${pkgs[*]}"
