# Reference Cox fits with R's survival::coxph for tests/test_estimators_cox.py.
#
# Usage: Rscript coxph_fit.R data.csv spec.csv outdir [newdata.csv times]
#
# spec.csv columns: id, ties, covariates (space separated), cluster (or empty),
#                   strata (or empty), robust (0/1)
# Writes to outdir: coef.csv (id, term, coef, se, robust_se),
#                   fit.csv (id, loglik0, loglik, n, nevent, iter),
#                   basehaz.csv (id, strata, time, cumhaz; basehaz(centered = FALSE)),
#                   surv.csv (id, profile, time, surv; survfit at newdata, unstratified fits only)
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
spec <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = "character")
outdir <- args[3]
newdata <- if (length(args) >= 4) read.csv(args[4]) else NULL
times <- if (length(args) >= 5) as.numeric(strsplit(args[5], " ")[[1]]) else NULL

ctl <- coxph.control(eps = 1e-11, toler.chol = 1e-13, iter.max = 100)
coefs <- list(); fits <- list(); bh <- list(); sv <- list()
for (i in seq_len(nrow(spec))) {
  s <- spec[i, ]
  covs <- strsplit(s$covariates, " ")[[1]]
  rhs <- paste(covs, collapse = " + ")
  if (!is.na(s$strata) && nzchar(s$strata)) rhs <- paste0(rhs, " + strata(", s$strata, ")")
  f <- as.formula(paste("Surv(start, stop, event) ~", rhs))
  robust <- s$robust == "1"
  if (!is.na(s$cluster) && nzchar(s$cluster)) {
    d$.cl <- d[[s$cluster]]
    fit <- coxph(f, data = d, ties = s$ties, cluster = .cl, control = ctl)
  } else if (robust) {
    # per-record robust variance (survival >= 3 wants an explicit cluster/id
    # for counting-process data)
    d$.cl <- seq_len(nrow(d))
    fit <- coxph(f, data = d, ties = s$ties, cluster = .cl, control = ctl)
  } else {
    fit <- coxph(f, data = d, ties = s$ties, control = ctl)
  }
  se <- if (!is.null(fit$naive.var)) sqrt(diag(fit$naive.var)) else sqrt(diag(fit$var))
  rse <- if (!is.null(fit$naive.var)) sqrt(diag(fit$var)) else rep(NA_real_, length(covs))
  coefs[[i]] <- data.frame(id = s$id, term = names(coef(fit)), coef = unname(coef(fit)),
                           se = unname(se), robust_se = unname(rse))
  fits[[i]] <- data.frame(id = s$id, loglik0 = fit$loglik[1], loglik = fit$loglik[2],
                          n = fit$n, nevent = fit$nevent, iter = fit$iter)
  b <- basehaz(fit, centered = FALSE)
  if (is.null(b$strata)) b$strata <- NA
  bh[[i]] <- data.frame(id = s$id, strata = as.character(b$strata), time = b$time, cumhaz = b$hazard)
  if (!is.null(newdata) && (is.na(s$strata) || !nzchar(s$strata))) {
    sf <- survfit(fit, newdata = newdata[, covs, drop = FALSE])
    sm <- summary(sf, times = times, extend = TRUE)
    S <- as.matrix(sm$surv)
    for (k in seq_len(ncol(S))) {
      sv[[length(sv) + 1]] <- data.frame(id = s$id, profile = k - 1, time = sm$time, surv = S[, k])
    }
  }
}
wr <- function(x, name) write.csv(do.call(rbind, x), file.path(outdir, name), row.names = FALSE)
wr(coefs, "coef.csv"); wr(fits, "fit.csv"); wr(bh, "basehaz.csv")
if (length(sv)) wr(sv, "surv.csv")
