# Reference conditional-logit fits for tests/test_estimators_binary.py.
#
# Usage: Rscript clogit_fit.R data.csv spec.csv out.csv
# spec.csv columns: id, method, outcome, covariates (space separated), group, cluster
#   method = "exact": survival::clogit(method = "exact") coefficients and model SEs,
#            plus a cluster sandwich from per-group exact scores computed by
#            brute-force enumeration of all case sets (small groups only):
#            score_g = sum_{cases} x - E_b[sum_{S} x],  P(S) ~ exp(sum_{S} x b), |S| = k
#   method = "coxph": one case per group; coxph(Surv(1, y) ~ x + strata(g),
#            ties = "breslow", cluster = cl) robust SEs (identical model then).
# out.csv: id, term, coef, se_model, se_cl_raw, se_cl_stata, G, loglik, loglik0
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
spec <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = "character")
out <- list()
for (i in seq_len(nrow(spec))) {
  s <- spec[i, ]
  covs <- strsplit(s$covariates, " ")[[1]]
  d$.y <- d[[s$outcome]]; d$.g <- d[[s$group]]; d$.cl <- d[[s$cluster]]
  rhs <- paste(c(covs, "strata(.g)"), collapse = " + ")
  ctl <- coxph.control(eps = 1e-11, toler.chol = 1e-13, iter.max = 100)
  if (s$method == "exact") {
    fit <- clogit(as.formula(paste(".y ~", rhs)), data = d, method = "exact", control = ctl)
    b <- coef(fit)
    B <- vcov(fit)
    X <- as.matrix(d[, covs, drop = FALSE])
    groups <- split(seq_len(nrow(d)), d$.g)
    U <- matrix(0, length(groups), length(covs))
    gcl <- character(length(groups))
    for (j in seq_along(groups)) {
      idx <- groups[[j]]
      k <- sum(d$.y[idx]); n <- length(idx)
      gcl[j] <- as.character(d$.cl[idx[1]])
      if (k == 0 || k == n) next
      sets <- combn(n, k)
      xs <- apply(sets, 2, function(S) colSums(X[idx[S], , drop = FALSE]))
      xs <- matrix(xs, nrow = length(covs))
      w <- exp(drop(b %*% xs)); w <- w / sum(w)
      U[j, ] <- colSums(X[idx[d$.y[idx] == 1], , drop = FALSE]) - drop(xs %*% w)
    }
    meat <- crossprod(rowsum(U, gcl))
    V <- B %*% meat %*% B
    G <- length(unique(gcl))
    se_raw <- sqrt(diag(V))
  } else {
    d$.t <- 1
    fit <- coxph(as.formula(paste("Surv(.t, .y) ~", rhs)), data = d, ties = "breslow",
                 cluster = .cl, control = ctl)
    b <- coef(fit)
    B <- fit$naive.var
    se_raw <- sqrt(diag(fit$var))
    G <- length(unique(d$.cl))
  }
  out[[i]] <- data.frame(id = s$id, term = covs, coef = unname(b), se_model = sqrt(diag(B)),
                         se_cl_raw = unname(se_raw), se_cl_stata = unname(se_raw) * sqrt(G / (G - 1)),
                         G = G, loglik = fit$loglik[2], loglik0 = fit$loglik[1])
}
write.csv(do.call(rbind, out), args[3], row.names = FALSE)
