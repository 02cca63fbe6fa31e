# Reference logit/probit fits with base R glm() and a hand-coded cluster
# sandwich, for tests/test_estimators_binary.py.  No extra packages needed.
#
# Usage: Rscript glm_cluster.R data.csv spec.csv out.csv
# spec.csv columns: id, link (logit/probit), outcome, covariates (space separated), cluster
# out.csv: id, term, coef, se_model, se_fisher, se_cl_raw, se_cl_stata, se_cl_regress, N, K, G
#   se_model      : sqrt(diag(B)), B = inverse *observed* information at the glm
#                   estimates (Stata's default vce(oim), Newton-Raphson Hessian).
#                   For logit it equals vcov(glm); for probit glm's vcov() is the
#                   inverse *expected* (Fisher) information, reported as se_fisher.
#   se_cl_raw     : sqrt(diag(B M B)), M = sum_g (sum_{i in g} s_i)(sum_{i in g} s_i)'
#   se_cl_stata   : times G/(G-1)                 (Stata ML commands: logit, probit)
#   se_cl_regress : times G/(G-1) * (N-1)/(N-K)   (Stata regress; statsmodels use_correction)
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
spec <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = "character")
out <- list()
for (i in seq_len(nrow(spec))) {
  s <- spec[i, ]
  covs <- strsplit(s$covariates, " ")[[1]]
  f <- as.formula(paste(s$outcome, "~", paste(covs, collapse = " + ")))
  fam <- binomial(link = s$link)
  dd <- d[!is.na(d[[s$cluster]]), ]   # listwise deletion includes the cluster variable
  fit <- glm(f, data = dd, family = fam, control = glm.control(epsilon = 1e-14, maxit = 100))
  X <- model.matrix(fit)
  y <- fit$y
  eta <- fit$linear.predictors
  mu <- fit$fitted.values
  sc <- X * ((y - mu) * fam$mu.eta(eta) / fam$variance(mu))   # observation scores
  cl <- dd[rownames(X), s$cluster]
  meat <- crossprod(rowsum(sc, cl))
  # observed information: sum_i w_i x_i x_i' with w_i = -d2 loglik_i / d eta^2
  if (s$link == "logit") {
    w <- mu * (1 - mu)
  } else if (s$link == "probit") {
    lam <- (y - mu) * dnorm(eta) / (mu * (1 - mu))   # d loglik_i / d eta
    w <- lam * (lam + eta)
  } else stop("unknown link")
  B <- solve(crossprod(X, X * w))
  V <- B %*% meat %*% B
  N <- nrow(X); K <- ncol(X); G <- length(unique(cl))
  term <- colnames(X); term[term == "(Intercept)"] <- "_cons"
  out[[i]] <- data.frame(id = s$id, term = term, coef = unname(coef(fit)),
                         se_model = sqrt(diag(B)), se_fisher = sqrt(diag(vcov(fit))),
                         se_cl_raw = sqrt(diag(V)),
                         se_cl_stata = sqrt(diag(V) * G / (G - 1)),
                         se_cl_regress = sqrt(diag(V) * G / (G - 1) * (N - 1) / (N - K)),
                         N = N, K = K, G = G, loglik = as.numeric(logLik(fit)))
}
write.csv(do.call(rbind, out), args[3], row.names = FALSE)
