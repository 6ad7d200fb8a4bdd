//! Kernel throughput: f32 GEMM (square 512³ and 2048³, the sgemm peak to compare with, and the
//! shapes of a convolution layer) and the convolution kernels on every convolution of the Keras
//! MNIST CNN and of LeNet-5 (batch 128), in floating-point operations, so criterion's "Gelem/s"
//! reads as GFLOP/s; and the pooling kernels (max and average, forward and backward) on that network's
//! 2×2 pooling of [24×24×64] maps and on LeNet-5's S2 (2×2 on [28×28×6]), in input values per
//! second.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use netcalc::tensor::convolution::{
    Conv2dGeometry, ConvBackward, ConvGradients, bias_gradient, conv2d_backward,
    conv2d_backward_data, conv2d_forward,
};
use netcalc::tensor::matmul::{Product, matmul};
use netcalc::tensor::pointwise::Pointwise;
use netcalc::tensor::pooling::{
    Pool2dGeometry, average_pool2d_backward, average_pool2d_forward, max_pool2d_backward,
    max_pool2d_forward,
};
use netcalc::tensor::{Compute, Nhwc};
use std::hint::black_box;

const THREADS: usize = 2;

fn filled(length: usize) -> Vec<f32> {
    (0..length)
        .map(|index| ((index * 7919 % 1009) as f32 / 1009.0) - 0.5)
        .collect()
}

fn products(criterion: &mut Criterion) {
    let compute = Compute::new(THREADS).expect("two threads");
    let mut group = criterion.benchmark_group("gemm");
    group.sample_size(10);
    // (name, product): 512³ square, then a conv layer's products with pixels = 128·24·24.
    let pixels = 128 * 24 * 24;
    let cases = [
        ("square 512", Product::new(512, 512, 512)),
        ("square 2048", Product::new(2048, 2048, 2048)),
        ("forward Col·W 73728x288x64", Product::new(pixels, 288, 64)),
        ("forward W·Col 64x288x73728", Product::new(64, 288, pixels)),
        (
            "data dY·Wt 73728x64x288",
            Product::new(pixels, 64, 288).transposing_b(),
        ),
        (
            "weights Colt·dY 288x73728x64",
            Product::new(288, pixels, 64).transposing_a(),
        ),
    ];
    for (name, product) in cases {
        let a = filled(product.m * product.k);
        let b = filled(product.k * product.n);
        let mut c = vec![0.0; product.m * product.n];
        group.throughput(Throughput::Elements(product.flops() as u64));
        group.bench_function(BenchmarkId::from_parameter(name), |bencher| {
            bencher.iter(|| {
                matmul(&product, black_box(&a), black_box(&b), &mut c, compute)
                    .expect("sizes match")
            })
        });
    }
    group.finish();
}

/// Every convolution of the Keras MNIST CNN and of LeNet-5 at batch 128: forward (with the
/// layer's activation fused), backward-data (left out for a layer that reads the network's
/// input, as training does) and backward-weights with the bias gradient, each as one product of
/// `2·MACs` floating-point operations.
fn convolution(criterion: &mut Criterion) {
    let compute = Compute::new(THREADS).expect("two threads");
    let cases = [
        (
            "keras conv1 28x28x1->26x26x32",
            Conv2dGeometry::new(Nhwc::new(128, 28, 28, 1), 32, (3, 3)),
            Pointwise::Relu,
            false,
        ),
        (
            "keras conv2 26x26x32->24x24x64",
            Conv2dGeometry::new(Nhwc::new(128, 26, 26, 32), 64, (3, 3)),
            Pointwise::Relu,
            true,
        ),
        (
            "lenet c1 32x32x1->28x28x6",
            Conv2dGeometry::new(Nhwc::new(128, 32, 32, 1), 6, (5, 5)),
            Pointwise::TANH,
            false,
        ),
        (
            "lenet c3 14x14x6->10x10x16",
            Conv2dGeometry::new(Nhwc::new(128, 14, 14, 6), 16, (5, 5)),
            Pointwise::TANH,
            true,
        ),
        (
            "lenet c5 5x5x16->1x1x120",
            Conv2dGeometry::new(Nhwc::new(128, 5, 5, 16), 120, (5, 5)),
            Pointwise::TANH,
            true,
        ),
    ];
    for (name, geometry, function, with_data) in cases {
        let output_len = geometry
            .output()
            .and_then(|output| output.len())
            .expect("valid");
        let channels = geometry.output_channels;
        let input = filled(geometry.input.len().expect("valid"));
        let weights = filled(geometry.weight_len().expect("valid"));
        let bias = filled(channels);
        let output_gradient = filled(output_len);
        let mut output = vec![0.0; output_len];
        let mut input_gradient = vec![0.0; input.len()];
        let mut weight_gradient = vec![0.0; weights.len()];
        let mut bias_sums = vec![0.0; channels];
        let flops = 2.0 * geometry.macs().expect("valid");
        conv2d_forward(
            &geometry,
            &input,
            &weights,
            Some(&bias),
            function,
            &mut output,
            compute,
        )
        .expect("sizes match");

        let mut group = criterion.benchmark_group(format!("conv2d {name} batch 128"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(flops as u64));
        group.bench_function("forward", |bencher| {
            bencher.iter(|| {
                conv2d_forward(
                    &geometry,
                    black_box(&input),
                    &weights,
                    Some(&bias),
                    function,
                    &mut output,
                    compute,
                )
                .expect("sizes match")
            })
        });
        if with_data {
            group.bench_function("backward data", |bencher| {
                bencher.iter(|| {
                    conv2d_backward_data(
                        &geometry,
                        black_box(&output_gradient),
                        &weights,
                        &mut input_gradient,
                        compute,
                    )
                    .expect("sizes match")
                })
            });
        }
        group.bench_function("backward weights and bias", |bencher| {
            bencher.iter(|| {
                conv2d_backward(
                    &geometry,
                    ConvBackward {
                        input: black_box(&input),
                        weights: &weights,
                        output_gradient: &output_gradient,
                        activation: Some((&output, function)),
                    },
                    ConvGradients {
                        input: None,
                        weights: &mut weight_gradient,
                        bias: Some(&mut bias_sums),
                    },
                    compute,
                )
                .expect("sizes match")
            })
        });
        group.finish();
    }
    let output_gradient = filled(128 * 24 * 24 * 64);
    let mut bias_sums = vec![0.0; 64];
    let mut group = criterion.benchmark_group("bias gradient 73728x64");
    group.sample_size(10);
    group.throughput(Throughput::Elements(output_gradient.len() as u64));
    group.bench_function("sum", |bencher| {
        bencher.iter(|| {
            bias_gradient(black_box(&output_gradient), 64, &mut bias_sums, compute)
                .expect("sizes match")
        })
    });
    group.finish();
}

fn pooling(criterion: &mut Criterion) {
    let compute = Compute::new(THREADS).expect("two threads");
    let cases = [
        ("keras 24x24x64 batch 128", Nhwc::new(128, 24, 24, 64)),
        ("lenet s2 28x28x6 batch 128", Nhwc::new(128, 28, 28, 6)),
    ];
    for (name, input_size) in cases {
        let geometry = Pool2dGeometry::new(input_size, (2, 2));
        let input_len = geometry.input.len().expect("fits");
        let output_len = geometry.output().expect("fits").len().expect("fits");
        let input = filled(input_len);
        let upstream = filled(output_len);
        let mut output = vec![0.0; output_len];
        let mut input_gradient = vec![0.0; input_len];
        let mut group = criterion.benchmark_group(format!("pool 2x2 {name}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(input_len as u64));
        group.bench_function("max forward", |bencher| {
            bencher.iter(|| {
                max_pool2d_forward(&geometry, black_box(&input), &mut output, compute)
                    .expect("sizes match")
            })
        });
        group.bench_function("max backward", |bencher| {
            bencher.iter(|| {
                max_pool2d_backward(
                    &geometry,
                    black_box(&input),
                    black_box(&upstream),
                    &mut input_gradient,
                    compute,
                )
                .expect("sizes match")
            })
        });
        group.bench_function("average forward", |bencher| {
            bencher.iter(|| {
                average_pool2d_forward(&geometry, black_box(&input), &mut output, compute)
                    .expect("sizes match")
            })
        });
        group.bench_function("average backward", |bencher| {
            bencher.iter(|| {
                average_pool2d_backward(
                    &geometry,
                    black_box(&upstream),
                    &mut input_gradient,
                    compute,
                )
                .expect("sizes match")
            })
        });
        group.finish();
    }
}

criterion_group!(kernels, products, convolution, pooling);
criterion_main!(kernels);
